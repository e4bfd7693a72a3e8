//! A merchant's payment page: what a debtor who opens a payment link sees of the merchant
//! (its name and contact details) and how to pay (bank details with the reference to quote,
//! and/or a payment URL filled with the invoice number and amount). The merchant's own
//! data, no debtor's.

use time::OffsetDateTime;

use crate::money::Money;
use crate::payment::{Currency, InvoiceNumber};
use crate::text::text_field;
use crate::user::{Email, Phone};
use crate::{DisplayName, FieldError, ValidationErrors, Violation, bounded_text};

text_field!(
    /// A bank's name, or an account holder's.
    BankText,
    100
);
text_field!(
    /// A bank account number (or IBAN), as the bank writes it.
    AccountNumber,
    34
);
text_field!(
    /// A bank's branch (or sort, or SWIFT) code.
    BranchCode,
    20
);

/// The placeholders a template may hold, filled for each payment request.
pub const PLACEHOLDERS: &[&str] = &["{invoice_number}", "{amount}", "{currency}"];

/// Checks that every `{...}` in `text` is one of [`PLACEHOLDERS`].
fn placeholders_known(field: &str, text: &str) -> Result<(), FieldError> {
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        let tail = rest.get(open..).unwrap_or_default();
        match PLACEHOLDERS.iter().find(|p| tail.starts_with(**p)) {
            Some(placeholder) => rest = tail.get(placeholder.len()..).unwrap_or_default(),
            None => {
                let expected = "text whose placeholders are {invoice_number}, {amount} and {currency}";
                return Err(FieldError::new(field, Violation::Format { expected }));
            }
        }
    }
    Ok(())
}

/// What a template is filled with: one payment request's.
#[derive(Debug, Clone, Copy)]
pub struct Filling<'a> {
    pub invoice_number: &'a InvoiceNumber,
    pub amount: Money,
    pub currency: Currency,
}

impl Filling<'_> {
    fn fill(&self, template: &str, encode: fn(&str) -> String) -> String {
        template
            .replace("{invoice_number}", &encode(self.invoice_number.as_str()))
            .replace("{amount}", &encode(&self.amount.to_string()))
            .replace("{currency}", &encode(self.currency.name()))
    }
}

/// The reference a debtor quotes with a bank transfer: text of up to 100 characters, with
/// placeholders; `{invoice_number}` when not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceTemplate(String);

impl ReferenceTemplate {
    pub const MAX: usize = 100;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = bounded_text(field, value, Self::MAX)?;
        placeholders_known(field, &value)?;
        Ok(ReferenceTemplate(value))
    }

    pub fn invoice_number() -> Self {
        ReferenceTemplate("{invoice_number}".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        ReferenceTemplate(value)
    }

    pub fn fill(&self, filling: &Filling<'_>) -> String {
        filling.fill(&self.0, str::to_owned)
    }
}

/// A payment URL with placeholders (`https://pay.example.com/?ref={invoice_number}&amount=
/// {amount}`): an http or https URL once filled, each value percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

fn percent_encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl UrlTemplate {
    pub const MAX: usize = 2048;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = bounded_text(field, value, Self::MAX)?;
        placeholders_known(field, &value)?;
        let sample = Filling {
            invoice_number: &InvoiceNumber::from_stored("INV-1".to_owned()),
            amount: Money::parse(field, "1.00")?,
            currency: Currency::Zar,
        };
        let filled = sample.fill(&value, percent_encoded);
        let web = url::Url::parse(&filled)
            .ok()
            .filter(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some() && url.password().is_none());
        match web {
            Some(_) if !value.contains(char::is_whitespace) => Ok(UrlTemplate(value)),
            _ => Err(FieldError::new(field, Violation::Format { expected: "an http or https URL" })),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        UrlTemplate(value)
    }

    pub fn fill(&self, filling: &Filling<'_>) -> String {
        filling.fill(&self.0, percent_encoded)
    }
}

/// Bank details for a transfer, with the reference to quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankTransfer {
    pub bank_name: BankText,
    pub account_holder: Option<BankText>,
    pub account_number: AccountNumber,
    pub branch_code: Option<BranchCode>,
    pub reference: ReferenceTemplate,
}

/// A merchant's payment page settings. Every part is optional; a page without them shows
/// the merchant's registered name and asks the debtor to contact it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPage {
    /// The name debtors know the merchant by, in place of its registered name.
    pub display_name: Option<DisplayName>,
    pub contact_email: Option<Email>,
    pub contact_phone: Option<Phone>,
    pub bank_transfer: Option<BankTransfer>,
    pub payment_url: Option<UrlTemplate>,
    pub version: i64,
    pub updated_at: OffsetDateTime,
}

/// The settings as a client sends them, each part optional text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentPageInput {
    pub display_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub bank_name: Option<String>,
    pub account_holder: Option<String>,
    pub account_number: Option<String>,
    pub branch_code: Option<String>,
    pub reference: Option<String>,
    pub payment_url: Option<String>,
}

impl PaymentPageInput {
    /// The settings, as version `version` written at `now`; every refused field named.
    /// Bank details need the bank's name and the account number together.
    pub fn parse(self, version: i64, now: OffsetDateTime) -> Result<PaymentPage, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let display_name = text(&mut e, "display_name", self.display_name, DisplayName::parse);
        let contact_email = text(&mut e, "contact_email", self.contact_email, Email::parse);
        let contact_phone = text(&mut e, "contact_phone", self.contact_phone, |f, v| Phone::parse(f, v, None));
        let bank_name = text(&mut e, "bank_name", self.bank_name, BankText::parse);
        let account_holder = text(&mut e, "account_holder", self.account_holder, BankText::parse);
        let account_number = text(&mut e, "account_number", self.account_number, AccountNumber::parse);
        let branch_code = text(&mut e, "branch_code", self.branch_code, BranchCode::parse);
        let reference = text(&mut e, "reference", self.reference, ReferenceTemplate::parse);
        let payment_url = text(&mut e, "payment_url", self.payment_url, UrlTemplate::parse);
        let bank_transfer = match (bank_name, account_number) {
            (Some(bank_name), Some(account_number)) => Some(BankTransfer {
                bank_name,
                account_holder,
                account_number,
                branch_code,
                reference: reference.unwrap_or_else(ReferenceTemplate::invoice_number),
            }),
            (None, None) if account_holder.is_some() || branch_code.is_some() || reference.is_some() => {
                e.push(FieldError::new("bank_name", Violation::Other("is required with bank details".into())));
                None
            }
            (None, None) => None,
            (None, Some(_)) => {
                e.push(FieldError::new("bank_name", Violation::Other("is required with an account number".into())));
                None
            }
            (Some(_), None) => {
                e.push(FieldError::new("account_number", Violation::Other("is required with a bank".into())));
                None
            }
        };
        e.into_result()?;
        Ok(PaymentPage {
            display_name,
            contact_email,
            contact_phone,
            bank_transfer,
            payment_url,
            version,
            updated_at: now,
        })
    }
}

/// A part parsed when it was sent and is not blank.
fn text<T>(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<String>,
    parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
) -> Option<T> {
    value.filter(|v| !v.trim().is_empty()).and_then(|v| errors.take(parse(field, &v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filling(invoice: &InvoiceNumber) -> Filling<'_> {
        Filling { invoice_number: invoice, amount: Money::parse("a", "1520.7").unwrap(), currency: Currency::Zar }
    }

    #[test]
    fn templates_are_filled_with_the_request_and_urls_encode_it() {
        let invoice = InvoiceNumber::parse("i", "INV 7/A&B").unwrap();
        let reference = ReferenceTemplate::parse("r", "Acme {invoice_number}").unwrap();
        assert_eq!(reference.fill(&filling(&invoice)), "Acme INV 7/A&B");
        let url = UrlTemplate::parse("u", "https://pay.example.com/p?ref={invoice_number}&amt={amount}&c={currency}")
            .unwrap();
        assert_eq!(url.fill(&filling(&invoice)), "https://pay.example.com/p?ref=INV+7%2FA%26B&amt=1520.70&c=ZAR");
    }

    #[test]
    fn unknown_placeholders_and_non_web_urls_are_refused() {
        for bad in ["Ref {customer}", "Ref {invoice_number", "Ref }"] {
            assert!(ReferenceTemplate::parse("r", bad).is_err(), "{bad}");
        }
        for bad in ["javascript:alert(1)", "ftp://x.example/{amount}", "https://", "https://a b.example", "/pay"] {
            assert!(UrlTemplate::parse("u", bad).is_err(), "{bad}");
        }
        assert!(UrlTemplate::parse("u", "https://{invoice_number}.example.com/").is_ok());
    }

    #[test]
    fn bank_details_need_a_bank_and_an_account_number_together() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let fields = |input: PaymentPageInput| -> Vec<String> {
            input.parse(1, now).err().map(|e| e.0.into_iter().map(|e| e.field).collect()).unwrap_or_default()
        };
        let account = || Some("62000000001".to_owned());
        assert_eq!(fields(PaymentPageInput { account_number: account(), ..Default::default() }), ["bank_name"]);
        assert_eq!(
            fields(PaymentPageInput { bank_name: Some("FNB".into()), ..Default::default() }),
            ["account_number"]
        );
        assert_eq!(
            fields(PaymentPageInput { reference: Some("{amount}".into()), ..Default::default() }),
            ["bank_name"]
        );
        let page = PaymentPageInput { bank_name: Some("FNB".into()), account_number: account(), ..Default::default() };
        let page = page.parse(1, now).unwrap();
        assert_eq!(page.bank_transfer.map(|b| b.reference), Some(ReferenceTemplate::invoice_number()));
        let blank = PaymentPageInput { display_name: Some("  ".into()), ..Default::default() }.parse(1, now).unwrap();
        assert_eq!(blank.display_name, None);
    }
}
