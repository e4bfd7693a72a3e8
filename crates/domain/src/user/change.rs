//! Where a change to a user came from, recorded with each change.

use std::borrow::Cow;

use time::OffsetDateTime;

use crate::credential::ApiKeyId;
use crate::interaction_point::InteractionPointId;
use crate::{FieldError, Violation};

/// The API surface a change arrived through, by the name it gives itself (`native`,
/// `convercus`, ...): the domain knows no surface, so a new one needs no change here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Surface(Cow<'static, str>);

impl Surface {
    /// The native API.
    pub const NATIVE: Surface = Surface::named("native");
    /// The debtor's public payment page.
    pub const PUBLIC_PAGE: Surface = Surface::named("page");
    /// Clientele itself (its webhook deliveries, its sweeps).
    pub const SYSTEM: Surface = Surface::named("system");

    /// A surface's own name: lower-case letters, digits and `-`, at most 32 of them.
    pub const fn named(name: &'static str) -> Self {
        Surface(Cow::Borrowed(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let valid = (1..=32).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Surface(Cow::Owned(value.to_owned())))
        } else {
            Err(FieldError::new(field, Violation::Format { expected: "a surface name" }))
        }
    }
}

/// Who made a change: the surface, the interaction point (till, shop) it named, if any, and
/// the API key that made it, if one did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub surface: Surface,
    pub interaction_point: Option<InteractionPointId>,
    pub actor: Option<ApiKeyId>,
}

impl Origin {
    /// A change through `surface`, naming no interaction point and no key.
    pub fn new(surface: Surface) -> Self {
        Origin { surface, interaction_point: None, actor: None }
    }

    /// A change through the native API, naming no interaction point and no key.
    pub fn native() -> Self {
        Origin::new(Surface::NATIVE)
    }

    /// The same origin, at an interaction point.
    pub fn at(self, interaction_point: InteractionPointId) -> Self {
        Origin { interaction_point: Some(interaction_point), ..self }
    }

    /// The same origin, made by an API key.
    pub fn by(self, actor: ApiKeyId) -> Self {
        Origin { actor: Some(actor), ..self }
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Created,
    Updated,
    Erased,
}

impl ChangeKind {
    pub const NAMES: &'static [&'static str] = &["created", "updated", "erased"];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Erased => "erased",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        match value {
            "created" => Ok(ChangeKind::Created),
            "updated" => Ok(ChangeKind::Updated),
            "erased" => Ok(ChangeKind::Erased),
            _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::NAMES })),
        }
    }
}

/// One recorded change of a user: the version it produced, what it did, and its origin.
/// It holds no personal data, so it outlives erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    pub version: i64,
    pub kind: ChangeKind,
    pub origin: Origin,
    pub at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_surface_is_named_by_itself_and_read_back_by_its_name() {
        assert_eq!(Surface::NATIVE.as_str(), "native");
        assert_eq!(Surface::parse("surface", "convercus").unwrap(), Surface::named("convercus"));
        for refused in ["", "Convercus", "real pay", &"x".repeat(33)] {
            assert!(Surface::parse("surface", refused).is_err(), "{refused:?}");
        }
    }
}
