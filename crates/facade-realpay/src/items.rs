//! What becomes of an item of a batch that is not written: its identifiers, its index and
//! every reason, in RealPay's field names.

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_service::{Refusal, Unique};

use crate::dto::Identifiers;
use crate::{CallStatus, FieldReason, RealPayError};

/// An item that could not be read: what identifies it, from whatever JSON it holds.
pub(crate) fn raw_identifiers(raw: &RawValue) -> Identifiers {
    let value: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
    let text = |name: &str| match value.get(name).unwrap_or(&serde_json::Value::Null) {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Identifiers {
        user_id: text("UserId").or_else(|| Some(format!("{}{}", text("Country")?, text("ID")?))),
        client_id: text("ClientId"),
        name: text("Name"),
        surname: text("Surname"),
        contract_number: value
            .get("Contract")
            .and_then(|c| c.get("ContractNumber"))
            .and_then(|n| n.as_str().map(str::to_owned)),
    }
}

/// An item that was not written, and every reason.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct FailedItem {
    #[serde(flatten)]
    identifiers: Identifiers,
    /// The item's position in the request, from 0.
    pub(crate) index: usize,
    errors: Vec<FieldReason>,
}

pub(crate) fn failed(index: usize, identifiers: Identifiers, errors: ValidationErrors) -> FailedItem {
    FailedItem { identifiers, index, errors: errors.0.into_iter().map(FieldReason::from).collect() }
}

/// Why an item of a batch could not be read: its fields' errors, or what is wrong with the
/// item as a whole.
pub(crate) fn unreadable(error: Refusal) -> ValidationErrors {
    match error {
        Refusal::Invalid(errors) => errors,
        Refusal::Malformed(detail) => {
            FieldError::new("", Violation::Other(detail.replacen("the body", "the item", 1))).into()
        }
        other => FieldError::new("", Violation::Other(RealPayError::from(other).message)).into(),
    }
}

/// The core names fields as the native API does; RealPay's names for those its rules blame.
pub(crate) fn realpay_names(errors: ValidationErrors) -> ValidationErrors {
    let rename = |field: String| match field.as_str() {
        "national_id" => "ID".to_owned(),
        "birth_date" => "DOB".to_owned(),
        "gender" => "Gender".to_owned(),
        "country" => "Country".to_owned(),
        _ => field,
    };
    ValidationErrors(errors.0.into_iter().map(|e| FieldError { field: rename(e.field), ..e }).collect())
}

/// Why a user write of an item failed, as the item's reasons; a failure of the server
/// fails the call.
pub(crate) fn item_reasons(error: Refusal) -> Result<ValidationErrors, RealPayError> {
    let reason = |field: &str, message: String| FieldError::new(field, Violation::Other(message)).into();
    match error {
        Refusal::Invalid(errors) => Ok(realpay_names(errors)),
        Refusal::Conflict(rule) => {
            let field = match rule {
                Unique::CustomerRef => "ClientId",
                Unique::ContractNumber => "Contract.ContractNumber",
                _ => "UserId",
            };
            Ok(reason(field, rule.to_string()))
        }
        Refusal::NotFound => Ok(reason("UserId", "no user has this UserId".to_owned())),
        Refusal::KeyReused | Refusal::KeyInFlight | Refusal::VersionMismatch => Ok(reason("UserId", error.to_string())),
        error => Err(error.into()),
    }
}

pub(crate) fn status_of(succeeded: usize, failed: usize) -> CallStatus {
    match (succeeded, failed) {
        (_, 0) => CallStatus::Success,
        (0, _) => CallStatus::Failed,
        _ => CallStatus::Partial,
    }
}
