//! Once-off payment requests: an amount a user owes, with a public link a debtor opens.

use std::collections::BTreeMap;
use std::fmt;

use time::{Date, OffsetDateTime};

use crate::id::uuid_id;
use crate::money::Money;
use crate::text::text_field;
use crate::user::UserId;
use crate::{FieldError, Violation, bounded_text};

uuid_id!(
    /// A payment request's id.
    PaymentRequestId
);

/// The unguessable id in a payment request's public link (`/pay/{guid}`). Written as 32
/// hex digits, as ServiceStack writes GUIDs; read with or without hyphens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicAccessGuid(uuid::Uuid);

impl PublicAccessGuid {
    /// A new random (version 4) GUID: 122 random bits.
    pub fn generate() -> Self {
        PublicAccessGuid(uuid::Uuid::new_v4())
    }

    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text.trim()).ok().map(PublicAccessGuid)
    }

    pub fn as_uuid(self) -> uuid::Uuid {
        self.0
    }

    pub fn from_uuid(id: uuid::Uuid) -> Self {
        PublicAccessGuid(id)
    }
}

impl fmt::Display for PublicAccessGuid {
    /// 32 lower-case hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.simple().fmt(f)
    }
}

text_field!(
    /// The merchant's invoice number: unique per merchant.
    InvoiceNumber,
    64
);
text_field!(
    /// The debt's segment (a portfolio, a product line).
    Segment,
    100
);

/// A link to the debt's document: an `http` or `https` URL of at most 2048 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentUrl(String);

impl DocumentUrl {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = bounded_text(field, value, 2048)?;
        let lower = value.to_ascii_lowercase();
        let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !value.contains(char::is_whitespace) => {
                Ok(DocumentUrl(value))
            }
            _ => Err(FieldError::new(field, Violation::Format { expected: "an http or https URL" })),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        DocumentUrl(value)
    }
}

/// Declares an enum with a documented integer code table.
macro_rules! coded {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $text:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            /// Every value with its code and name, for documentation.
            pub const TABLE: &'static [(i64, &'static str)] = &[$(($code, $text),)*];

            pub fn code(self) -> i64 {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub fn from_code(code: i64) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)*
                    _ => None,
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// Parses a code written as text, naming the allowed codes when refused.
            pub fn parse_code(field: &str, text: &str) -> Result<Self, FieldError> {
                let allowed = Self::TABLE.iter().map(|(code, name)| format!("{code} ({name})")).collect::<Vec<_>>().join(", ");
                text.trim()
                    .parse::<i64>()
                    .ok()
                    .and_then(Self::from_code)
                    .ok_or_else(|| FieldError::new(field, Violation::Other(format!("must be one of {allowed}"))))
            }
        }
    };
}

coded!(
    /// The currency of a payment request (DuEngage `CurrenciesId`), as ISO 4217 codes.
    Currency {
        Zar = 1, "ZAR";
        Usd = 2, "USD";
        Eur = 3, "EUR";
        Gbp = 4, "GBP";
        Nad = 5, "NAD";
        Bwp = 6, "BWP";
        Kes = 7, "KES";
        Ngn = 8, "NGN";
    }
);

coded!(
    /// How the debtor is reached (DuEngage `ChannelsId`).
    Channel {
        Sms = 1, "sms";
        Email = 2, "email";
        WhatsApp = 3, "whatsapp";
        Web = 4, "web";
        Letter = 5, "letter";
    }
);

coded!(
    /// Where a payment request stands (DuEngage `StatusCodesId`). Created, then viewed when
    /// the debtor opens the link; paid or cancelled end it.
    PaymentStatus {
        Created = 1, "created";
        Viewed = 2, "viewed";
        Paid = 3, "paid";
        Cancelled = 4, "cancelled";
    }
);

impl PaymentStatus {
    /// Whether a request in this status may move to `next`.
    pub fn may_become(self, next: PaymentStatus) -> bool {
        use PaymentStatus::{Cancelled, Created, Paid, Viewed};
        matches!((self, next), (Created, Viewed) | (Created | Viewed, Paid) | (Created | Viewed, Cancelled))
    }

    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Paid | PaymentStatus::Cancelled)
    }
}

/// A payment request as stored. It holds no personal data of its own: the debtor is its
/// user, and the request outlives the user's erasure as a financial record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub id: PaymentRequestId,
    pub public_access_guid: PublicAccessGuid,
    pub user_id: UserId,
    pub invoice_number: InvoiceNumber,
    pub segment: Segment,
    pub amount_outstanding: Money,
    pub currency: Currency,
    pub channel: Channel,
    pub debt_date: Option<Date>,
    pub url_to_document: Option<DocumentUrl>,
    pub debt_meta: BTreeMap<String, String>,
    pub status: PaymentStatus,
    pub viewed_at: Option<OffsetDateTime>,
    pub paid_at: Option<OffsetDateTime>,
    pub cancelled_at: Option<OffsetDateTime>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// What a payment request is made of, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentTerms {
    pub invoice_number: InvoiceNumber,
    pub segment: Segment,
    pub amount_outstanding: Money,
    pub currency: Currency,
    pub channel: Channel,
    pub debt_date: Option<Date>,
    pub url_to_document: Option<DocumentUrl>,
    pub debt_meta: BTreeMap<String, String>,
}

impl PaymentRequest {
    /// A new request of `user`, created now.
    pub fn new(user_id: UserId, terms: PaymentTerms, now: OffsetDateTime) -> Self {
        PaymentRequest {
            id: PaymentRequestId::generate(),
            public_access_guid: PublicAccessGuid::generate(),
            user_id,
            invoice_number: terms.invoice_number,
            segment: terms.segment,
            amount_outstanding: terms.amount_outstanding,
            currency: terms.currency,
            channel: terms.channel,
            debt_date: terms.debt_date,
            url_to_document: terms.url_to_document,
            debt_meta: terms.debt_meta,
            status: PaymentStatus::Created,
            viewed_at: None,
            paid_at: None,
            cancelled_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The terms a client sent, to tell a repeat of the same request from another one
    /// under the same invoice number.
    pub fn terms(&self) -> PaymentTerms {
        PaymentTerms {
            invoice_number: self.invoice_number.clone(),
            segment: self.segment.clone(),
            amount_outstanding: self.amount_outstanding,
            currency: self.currency,
            channel: self.channel,
            debt_date: self.debt_date,
            url_to_document: self.url_to_document.clone(),
            debt_meta: self.debt_meta.clone(),
        }
    }

    /// The request moved to `next` at `now`, if its status allows; viewing a viewed request
    /// changes nothing.
    pub fn moved_to(&self, next: PaymentStatus, now: OffsetDateTime) -> Option<Self> {
        if !self.status.may_become(next) {
            return None;
        }
        let mut moved = self.clone();
        moved.status = next;
        moved.version += 1;
        moved.updated_at = now;
        match next {
            PaymentStatus::Viewed => moved.viewed_at = Some(now),
            PaymentStatus::Paid => moved.paid_at = Some(now),
            PaymentStatus::Cancelled => moved.cancelled_at = Some(now),
            PaymentStatus::Created => {}
        }
        Some(moved)
    }
}

/// Checks a free-form metadata map: at most 50 entries, keys of 1 to 100 and values of at
/// most 1000 characters, no control characters.
pub fn parse_meta(field: &str, entries: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, FieldError> {
    if entries.len() > 50 {
        return Err(FieldError::new(field, Violation::Other("must have at most 50 entries".into())));
    }
    entries
        .iter()
        .map(|(key, value)| {
            let key = bounded_text(&format!("{field}.{key}"), key, 100)?;
            let value =
                if value.is_empty() { String::new() } else { bounded_text(&format!("{field}.{key}"), value, 1000)? };
            Ok((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_move_forward_only() {
        use PaymentStatus::{Cancelled, Created, Paid, Viewed};
        assert!(Created.may_become(Viewed) && Created.may_become(Paid) && Viewed.may_become(Paid));
        assert!(Created.may_become(Cancelled) && Viewed.may_become(Cancelled));
        for terminal in [Paid, Cancelled] {
            for next in [Created, Viewed, Paid, Cancelled] {
                assert!(!terminal.may_become(next));
            }
        }
        assert!(!Viewed.may_become(Viewed) && !Viewed.may_become(Created));
    }

    #[test]
    fn code_tables_name_their_codes() {
        assert_eq!(Currency::from_code(1), Some(Currency::Zar));
        assert_eq!(Currency::Zar.name(), "ZAR");
        assert!(Currency::parse_code("CurrenciesId", "0").unwrap_err().to_string().contains("1 (ZAR)"));
        assert_eq!(PaymentStatus::from_code(2), Some(PaymentStatus::Viewed));
        assert_eq!(Channel::parse_code("ChannelsId", " 3 ").unwrap(), Channel::WhatsApp);
    }

    #[test]
    fn guids_are_written_as_32_hex_digits() {
        let guid = PublicAccessGuid::generate();
        assert_eq!(guid.to_string().len(), 32);
        assert_eq!(PublicAccessGuid::parse(&guid.to_string()), Some(guid));
        assert_eq!(PublicAccessGuid::parse(&guid.as_uuid().hyphenated().to_string()), Some(guid));
    }

    #[test]
    fn document_urls_are_http_urls() {
        assert!(DocumentUrl::parse("u", "https://example.com/inv/1.pdf").is_ok());
        assert!(DocumentUrl::parse("u", "javascript:alert(1)").is_err());
        assert!(DocumentUrl::parse("u", "https:///x").is_err());
        assert!(DocumentUrl::parse("u", "ftp://example.com").is_err());
    }
}
