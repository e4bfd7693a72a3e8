//! Where a change to a user came from, recorded with each change.

use time::OffsetDateTime;

use crate::interaction_point::InteractionPointId;
use crate::{FieldError, Violation};

/// The API surface a change arrived through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Surface {
    Native,
    Convercus,
    RealPay,
    Gateway,
    DuEngage,
}

impl Surface {
    pub const NAMES: &'static [&'static str] = &["native", "convercus", "realpay", "gateway", "duengage"];

    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Native => "native",
            Surface::Convercus => "convercus",
            Surface::RealPay => "realpay",
            Surface::Gateway => "gateway",
            Surface::DuEngage => "duengage",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        match value {
            "native" => Ok(Surface::Native),
            "convercus" => Ok(Surface::Convercus),
            "realpay" => Ok(Surface::RealPay),
            "gateway" => Ok(Surface::Gateway),
            "duengage" => Ok(Surface::DuEngage),
            _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::NAMES })),
        }
    }
}

/// Who made a change: the surface, and the interaction point (till, shop) it named, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub surface: Surface,
    pub interaction_point: Option<InteractionPointId>,
}

impl Origin {
    /// A change through the native API, which names no interaction point.
    pub fn native() -> Self {
        Origin { surface: Surface::Native, interaction_point: None }
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
