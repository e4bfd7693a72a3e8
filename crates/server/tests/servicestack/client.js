// ServiceStack's JavaScript client (npm @servicestack/client 2.1), used as a DuEngage
// integrator uses it, against a running server: CLIENTELE_URL and CLIENTELE_KEY. Exits
// non-zero at the first answer that is not ServiceStack's. Prints the invoices it created.
"use strict";
const assert = require("node:assert/strict");
const { JsonServiceClient, JSV, ApiResult } = require("@servicestack/client");

// The DTOs as `npx get-dtos typescript` writes them (camelCase members; dates as strings).
class OnceOffPaymentResponse {
  constructor(init) { Object.assign(this, init); }
}
class OnceOffPayment {
  constructor(init) { Object.assign(this, init); }
  getTypeName() { return "OnceOffPayment"; }
  getMethod() { return "POST"; }
  createResponse() { return new OnceOffPaymentResponse(); }
}
// The same operation, its answer read as text (for JSV answers).
class OnceOffPaymentText extends OnceOffPayment {
  createResponse() { return ""; }
}

const base = process.env.CLIENTELE_URL;
const key = process.env.CLIENTELE_KEY;
const invoices = [];

function payment(invoice, extra = {}) {
  invoices.push(invoice);
  return new OnceOffPayment({
    segment: "Retail", firstName: "Thandi", lastName: "Nkosi", mobileNumber: "0827648862",
    email: "thandi@example.com", idNumber: "8001015009087", invoiceNumber: invoice,
    debtDate: "/Date(1738281600000-0000)/", amountOutstanding: 1520.75, currenciesId: 1, channelsId: 2,
    debtMeta: { Branch: "Cape Town" }, urlToDocument: "https://example.com/i.pdf",
    customerUniqueIdentifier: "JS-CUST", ...extra,
  });
}

function client() {
  const c = new JsonServiceClient(base);
  c.bearerToken = key;
  return c;
}

function guid(answer, member = "PublicAccessGuid") {
  assert.match(String(answer[member]), /^[0-9a-f]{32}$/, JSON.stringify(answer));
  return answer[member];
}

async function main() {
  // The default: POST /api/OnceOffPayment.
  guid(await client().post(payment("JS-API")));
  // camelCase answers, as ServiceStack writes them with ?jsconfig=TextCase:CamelCase.
  const camel = await client().post(payment("JS-CAMEL"), { jsconfig: "TextCase:CamelCase" });
  guid(camel, "publicAccessGuid");
  assert.equal(camel.invoiceNumber, "JS-CAMEL");
  assert.equal(camel.statusCodesId, 1);
  // The base path cleared: POST /json/reply/OnceOffPayment.
  const reply = client();
  reply.basePath = null;
  guid(await reply.post(payment("JS-REPLY")));
  // One-way: POST /json/oneway/OnceOffPayment, no answer.
  await client().sendOneWay(payment("JS-ONEWAY"));
  // Explicit URLs, in any case.
  guid(await client().postToUrl("/onceoffpayment", payment("JS-URL")));
  guid(await client().postToUrl("/OnceOffPayment", payment("JS-URL-CASE")));
  guid(await client().postToUrl("/api/onceoffpayment.json", payment("JS-API-SUFFIX")));
  // A JSV body written by the client's own JSV writer, in PascalCase and in camelCase.
  for (const [contentType, invoice] of [["text/jsv", "JS-JSV"], ["application/jsv", "JS-JSV-APP"]]) {
    const jsv = client();
    jsv.headers.set("Content-Type", contentType);
    guid(await jsv.postBody(new OnceOffPayment(), JSV.stringify(payment(invoice, { debtDate: "2025-01-31" }))));
  }
  // A JSV answer, from the JSV route.
  const text = await client().postToUrl("/jsv/reply/OnceOffPayment", new OnceOffPaymentText(payment("JS-JSV-REPLY")));
  assert.match(text, /^\{PublicAccessGuid:[0-9a-f]{32},InvoiceNumber:JS-JSV-REPLY,StatusCodesId:1\}$/);

  // A refused request, read back through the client's own error types.
  const refused = payment("JS-REFUSED", { firstName: undefined, debtDate: "25/01/2025" });
  invoices.pop();
  try {
    await client().post(refused);
    assert.fail("a request without a first name was accepted");
  } catch (error) {
    assert.equal(error.responseStatus?.errorCode, "NotEmpty", JSON.stringify(error));
    const result = new ApiResult({ error: error.responseStatus });
    assert.equal(result.fieldError("FirstName")?.errorCode, "NotEmpty");
    assert.equal(result.fieldErrorMessage("firstName"), "'First Name' must not be empty.");
    assert.match(result.fieldErrorMessage("DebtDate"), /\/Date\(milliseconds\)\//);
  }
  const api = await client().api(refused, { jsconfig: "tc:cc" });
  assert.equal(api.failed, true);
  assert.equal(api.fieldError("FirstName")?.errorCode, "NotEmpty");
  // No credential: 401 Unauthorized.
  try {
    await new JsonServiceClient(base).post(payment("JS-ANONYMOUS"));
    assert.fail("a request without a credential was accepted");
  } catch (error) {
    invoices.pop();
    assert.equal(error.responseStatus?.errorCode, "Unauthorized", JSON.stringify(error));
  }
  console.log(JSON.stringify(invoices));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
