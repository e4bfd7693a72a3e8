"""ServiceStack's Python client (PyPI servicestack 0.1), used as a DuEngage integrator uses
it, against a running server: CLIENTELE_URL and CLIENTELE_KEY. Exits non-zero at the first
answer that is not ServiceStack's. Prints the invoices it created."""

import datetime
import json
import os
from dataclasses import dataclass
from typing import Dict, Optional

from dataclasses_json import LetterCase, Undefined, dataclass_json
from servicestack import IReturn, JsonServiceClient, ResponseStatus, WebServiceException

# The DTOs as `x python` writes them: snake_case fields, camelCase on the wire.


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class OnceOffPaymentResponse:
    public_access_guid: Optional[str] = None
    invoice_number: Optional[str] = None
    status_codes_id: int = 0
    response_status: Optional[ResponseStatus] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class OnceOffPayment(IReturn[OnceOffPaymentResponse]):
    segment: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    address: Optional[str] = None
    city: Optional[str] = None
    region: Optional[str] = None
    suburb: Optional[str] = None
    postal_code: Optional[str] = None
    mobile_number: Optional[str] = None
    email: Optional[str] = None
    id_number: Optional[str] = None
    passport_number: Optional[str] = None
    invoice_number: Optional[str] = None
    debt_date: Optional[datetime.datetime] = None
    amount_outstanding: float = 0.0
    currencies_id: int = 0
    channels_id: int = 0
    debt_meta: Optional[Dict[str, str]] = None
    customers_meta: Optional[Dict[str, str]] = None
    url_to_document: Optional[str] = None
    customer_unique_identifier: Optional[str] = None


BASE = os.environ["CLIENTELE_URL"]
CAMEL = {"jsconfig": "TextCase:CamelCase"}
invoices = []


def payment(invoice, **extra):
    invoices.append(invoice)
    fields = dict(segment="Retail", first_name="Thandi", last_name="Nkosi", mobile_number="0827648862",
                  email="thandi@example.com", id_number="8001015009087", invoice_number=invoice,
                  debt_date=datetime.datetime(2025, 1, 31, 8, 30), amount_outstanding=1520.75, currencies_id=1,
                  channels_id=2, debt_meta={"Branch": "Cape Town"}, url_to_document="https://example.com/i.pdf",
                  customer_unique_identifier="PY-CUST")
    fields.update(extra)
    return OnceOffPayment(**fields)


def client():
    return JsonServiceClient(BASE).set_bearer_token(os.environ["CLIENTELE_KEY"])


def check(answer, invoice):
    assert isinstance(answer, OnceOffPaymentResponse), answer
    assert answer.public_access_guid and len(answer.public_access_guid) == 32, answer
    assert answer.invoice_number == invoice and answer.status_codes_id == 1, answer


# The default, POST /api/OnceOffPayment, answered in camelCase as the client reads it.
check(client().post(payment("PY-API"), args=CAMEL), "PY-API")
check(client().post(payment("PY-API-SHORT"), args={"jsconfig": "tc:cc"}), "PY-API-SHORT")
# The base path cleared: POST /json/reply/OnceOffPayment.
check(client().set_base_path().post(payment("PY-REPLY"), args=CAMEL), "PY-REPLY")
# Explicit URLs, in any case.
check(client().post_url("/onceoffpayment", payment("PY-URL"), args=CAMEL), "PY-URL")
check(client().post_url("/ONCEOFFPAYMENT", payment("PY-URL-CASE"), args=CAMEL), "PY-URL-CASE")
# A JSV answer from the JSV route, and a JSV body.
text = client().post_url("/jsv/reply/OnceOffPayment", payment("PY-JSV-REPLY"), response_as=str)
assert text.startswith("{PublicAccessGuid:") and "InvoiceNumber:PY-JSV-REPLY" in text, text
jsv = client()
jsv.headers["Content-Type"] = "text/jsv"
invoices.append("PY-JSV")
body = ("{Segment:Retail,FirstName:Thandi,LastName:Nkosi,InvoiceNumber:PY-JSV,DebtDate:/Date(1738281600000+0200)/,"
        "AmountOutstanding:99.5,CurrenciesId:1,ChannelsId:4,CustomerUniqueIdentifier:PY-CUST}")
check(jsv.post_url("/api/OnceOffPayment", body, response_as=OnceOffPaymentResponse, args=CAMEL), "PY-JSV")

# A refused request, read back through the client's own exception.
try:
    client().post(payment("PY-REFUSED", first_name=None), args=CAMEL)
    raise AssertionError("a request without a first name was accepted")
except WebServiceException as error:
    invoices.pop()
    assert error.status_code == 400, error.status_code
    status = error.response_status
    assert status is not None and status.error_code == "NotEmpty", status
    assert [(e.field_name, e.error_code) for e in status.errors] == [("FirstName", "NotEmpty")], status
    assert status.message == "'First Name' must not be empty.", status
# No credential: 401 Unauthorized.
try:
    JsonServiceClient(BASE).post(payment("PY-ANONYMOUS"), args=CAMEL)
    raise AssertionError("a request without a credential was accepted")
except WebServiceException as error:
    invoices.pop()
    assert error.status_code == 401 and error.response_status.error_code == "Unauthorized", error.response_status

print(json.dumps(invoices))
