//! Interaction points: the registered tills, shops and channels a request may come from
//! (Convercus' `interaction-id`).

use time::OffsetDateTime;

use crate::{DisplayName, FieldError, Violation};

/// The merchant-chosen id of an interaction point: 1 to 100 visible ASCII characters, so it
/// can travel in an HTTP header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct InteractionPointId(String);

impl InteractionPointId {
    pub const MAX: usize = 100;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        if value.is_empty() {
            return Err(FieldError::new(field, Violation::Empty));
        }
        if value.len() > Self::MAX {
            return Err(FieldError::new(field, Violation::TooLong { max: Self::MAX }));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(
                field,
                Violation::Format { expected: "visible ASCII characters without spaces" },
            ));
        }
        Ok(InteractionPointId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        InteractionPointId(value)
    }
}

/// An interaction point as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionPoint {
    pub id: InteractionPointId,
    pub name: DisplayName,
    pub active: bool,
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_point_ids_fit_in_a_header() {
        assert!(InteractionPointId::parse("id", "till-7:shop/berlin").is_ok());
        assert!(InteractionPointId::parse("id", "till 7").is_err());
        assert!(InteractionPointId::parse("id", "kasse-ü").is_err());
        assert!(InteractionPointId::parse("id", "").is_err());
    }
}
