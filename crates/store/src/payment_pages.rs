//! A merchant's payment page settings: one row per merchant, read by the public page and
//! written whole through the native API.

use async_trait::async_trait;
use time::OffsetDateTime;

use clientele_domain::DisplayName;
use clientele_domain::merchant::MerchantId;
use clientele_domain::payment_page::{
    AccountNumber, BankText, BankTransfer, BranchCode, PaymentPage, ReferenceTemplate, UrlTemplate,
};
use clientele_domain::user::{Email, Phone};

use crate::StoreError;
use crate::at;
use crate::backend::{Backend, read_one, write_one};
use crate::schema::PAYMENT_PAGES;
use crate::sql::{DecodeError, Row, Value, parsed, statement};

/// Payment page settings.
#[async_trait]
pub trait PaymentPageStore: Send + Sync {
    /// The merchant's settings; [`StoreError::NotFound`] when it has none.
    async fn payment_page(&self, merchant: MerchantId) -> Result<PaymentPage, StoreError>;

    /// Writes the merchant's settings whole, at the next version; answers them as stored.
    async fn put_payment_page(
        &self,
        merchant: MerchantId,
        page: &PaymentPage,
        at: OffsetDateTime,
    ) -> Result<PaymentPage, StoreError>;
}

statement!(GET, "SELECT {} FROM payment_pages WHERE merchant_id = ?1", PAYMENT_PAGES.select(None));

/// The settings' columns after `merchant_id`, bound from `?2` on in this order.
const WRITTEN: [&str; 9] = [
    "display_name",
    "contact_email",
    "contact_phone",
    "bank_name",
    "account_holder",
    "account_number",
    "branch_code",
    "reference_template",
    "payment_url_template",
];

statement!(
    PUT,
    "INSERT INTO payment_pages (merchant_id, {}, version, updated_at) VALUES (?1, {}, 1, ?11) \
     ON CONFLICT (merchant_id) DO UPDATE SET {}, version = payment_pages.version + 1, updated_at = excluded.updated_at \
     RETURNING {}",
    WRITTEN.join(", "),
    (2..=10).map(|n| format!("?{n}")).collect::<Vec<_>>().join(", "),
    WRITTEN.iter().map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", "),
    PAYMENT_PAGES.select(None)
);

fn owned(value: Option<&str>) -> Value<'static> {
    Value::Text(value.map(|text| std::borrow::Cow::Owned(text.to_owned())))
}

fn values(merchant: MerchantId, page: &PaymentPage, at: OffsetDateTime) -> Vec<Value<'static>> {
    let bank = page.bank_transfer.as_ref();
    vec![
        Value::id(merchant.as_uuid()),
        owned(page.display_name.as_ref().map(DisplayName::as_str)),
        owned(page.contact_email.as_ref().map(Email::as_str)),
        owned(page.contact_phone.as_ref().map(Phone::as_str)),
        owned(bank.map(|b| b.bank_name.as_str())),
        owned(bank.and_then(|b| b.account_holder.as_ref()).map(BankText::as_str)),
        owned(bank.map(|b| b.account_number.as_str())),
        owned(bank.and_then(|b| b.branch_code.as_ref()).map(BranchCode::as_str)),
        owned(bank.map(|b| b.reference.as_str())),
        owned(page.payment_url.as_ref().map(UrlTemplate::as_str)),
        Value::time(at),
    ]
}

fn page(row: &dyn Row) -> Result<PaymentPage, DecodeError> {
    let text = |column: usize| Ok::<_, DecodeError>(row.text_or_null(column)?.map(str::to_owned));
    let phone = at!(PAYMENT_PAGES, "contact_phone");
    let bank = match (text(at!(PAYMENT_PAGES, "bank_name"))?, text(at!(PAYMENT_PAGES, "account_number"))?) {
        (Some(bank_name), Some(account_number)) => Some(BankTransfer {
            bank_name: BankText::from_stored(bank_name),
            account_holder: text(at!(PAYMENT_PAGES, "account_holder"))?.map(BankText::from_stored),
            account_number: AccountNumber::from_stored(account_number),
            branch_code: text(at!(PAYMENT_PAGES, "branch_code"))?.map(BranchCode::from_stored),
            reference: text(at!(PAYMENT_PAGES, "reference_template"))?
                .map_or_else(ReferenceTemplate::invoice_number, ReferenceTemplate::from_stored),
        }),
        _ => None,
    };
    Ok(PaymentPage {
        display_name: text(at!(PAYMENT_PAGES, "display_name"))?.map(DisplayName::from_stored),
        contact_email: text(at!(PAYMENT_PAGES, "contact_email"))?.map(Email::from_stored),
        // Its E.164 form is not stored: worked out again, as when it was written.
        contact_phone: row
            .text_or_null(phone)?
            .map(|p| parsed(phone, p, |p| Phone::parse("contact_phone", p, None)))
            .transpose()?,
        bank_transfer: bank,
        payment_url: text(at!(PAYMENT_PAGES, "payment_url_template"))?.map(UrlTemplate::from_stored),
        version: row.int(at!(PAYMENT_PAGES, "version"))?,
        updated_at: row.time(at!(PAYMENT_PAGES, "updated_at"))?,
    })
}

#[async_trait]
impl<B: Backend> PaymentPageStore for B {
    async fn payment_page(&self, merchant: MerchantId) -> Result<PaymentPage, StoreError> {
        read_one(self, "payment_page", &GET, vec![Value::id(merchant.as_uuid())], page).await
    }

    async fn put_payment_page(
        &self,
        merchant: MerchantId,
        settings: &PaymentPage,
        at: OffsetDateTime,
    ) -> Result<PaymentPage, StoreError> {
        write_one(self, "put_payment_page", &PUT, values(merchant, settings, at), page).await
    }
}
