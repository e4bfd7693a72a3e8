//! The loyalty points ledger: an append-only list of entries per user, whose sum is the
//! user's balance. Points arrive in lots (an earn, or a positive adjustment), each with an
//! optional expiry; what takes points (a spend, a negative adjustment, an expiry, a reset)
//! takes them from lots, the one that expires first first, and records which lots it took
//! them from, so a reversal gives them back exactly. [`Ledger`] is that arithmetic, with
//! no I/O: the store loads a user's lots into it, posts a movement, and writes what it says.

mod ledger;
mod replay;

use time::OffsetDateTime;

use crate::id::uuid_id;
use crate::text::{bounded_text, text_field};
use crate::user::{Origin, UserId};
use crate::{FieldError, Violation};

pub use ledger::{Allocation, Insufficient, Ledger, Lot, Posting, Refused};
pub use replay::{EntryAllocations, balance_as_of};

uuid_id!(
    /// A points entry's id. A lot has the id of the entry that made it.
    PointsEntryId
);

text_field!(
    /// The merchant's reference of an entry, unique per merchant: a repeat with the same
    /// reference and the same content is answered with the first entry.
    PointsReference,
    100
);

text_field!(
    /// What an entry was for, in the merchant's words. Erasure clears it.
    PointsDescription,
    200
);

/// The most points one entry can move: sums of any realistic ledger stay far inside `i64`.
pub const MAX_POINTS: i64 = 1_000_000_000_000;

/// What an entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Earn,
    Spend,
    Adjust,
    Expire,
    Reverse,
    Reset,
}

impl EntryKind {
    pub const NAMES: &'static [&'static str] = &["earn", "spend", "adjust", "expire", "reverse", "reset"];
    /// The kinds a client writes; the others are written by reversals, expiry and erasure.
    pub const WRITABLE: &'static [&'static str] = &["earn", "spend", "adjust"];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Earn => "earn",
            EntryKind::Spend => "spend",
            EntryKind::Adjust => "adjust",
            EntryKind::Expire => "expire",
            EntryKind::Reverse => "reverse",
            EntryKind::Reset => "reset",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        Self::from_stored(value).ok_or_else(|| FieldError::new(field, Violation::NotOneOf { allowed: Self::NAMES }))
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        Some(match value {
            "earn" => EntryKind::Earn,
            "spend" => EntryKind::Spend,
            "adjust" => EntryKind::Adjust,
            "expire" => EntryKind::Expire,
            "reverse" => EntryKind::Reverse,
            "reset" => EntryKind::Reset,
            _ => return None,
        })
    }
}

/// A movement a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// Points in, as a lot that expires at `expires_at` if given.
    Earn { points: i64, expires_at: Option<OffsetDateTime> },
    /// Points out, from the lots that expire first.
    Spend { points: i64 },
    /// A signed correction: in as a lot without expiry, or out as a spend is.
    Adjust { points: i64 },
}

impl Movement {
    /// Parses a client's movement at `now`: `points` is positive (for an adjustment, not
    /// zero) and at most [`MAX_POINTS`]; only an earn has an expiry, and it is later than now.
    pub fn parse(
        kind: &str,
        points: Option<i64>,
        expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = match kind {
            "earn" => Some(EntryKind::Earn),
            "spend" => Some(EntryKind::Spend),
            "adjust" => Some(EntryKind::Adjust),
            _ => {
                errors.push(FieldError::new("kind", Violation::NotOneOf { allowed: EntryKind::WRITABLE }));
                None
            }
        };
        let positive = kind != Some(EntryKind::Adjust);
        let points = match points {
            None => {
                errors.push(FieldError::new("points", Violation::Required));
                None
            }
            Some(p) if positive && !(1..=MAX_POINTS).contains(&p) => {
                errors.push(FieldError::new("points", Violation::Other(format!("must be from 1 to {MAX_POINTS}"))));
                None
            }
            Some(p) if !positive && (p == 0 || p.abs() > MAX_POINTS) => {
                let message = format!("must not be 0, and at most {MAX_POINTS} either way");
                errors.push(FieldError::new("points", Violation::Other(message)));
                None
            }
            Some(p) => Some(p),
        };
        match (kind, expires_at) {
            (Some(EntryKind::Earn), Some(at)) if at <= now => {
                errors.push(FieldError::new("expires_at", Violation::Other("must be later than now".into())));
            }
            (Some(EntryKind::Spend | EntryKind::Adjust), Some(_)) => {
                errors.push(FieldError::new("expires_at", Violation::Other("is only for an earn".into())));
            }
            _ => {}
        }
        match (kind, points) {
            (Some(EntryKind::Earn), Some(points)) if errors.is_empty() => Ok(Movement::Earn { points, expires_at }),
            (Some(EntryKind::Spend), Some(points)) if errors.is_empty() => Ok(Movement::Spend { points }),
            (Some(EntryKind::Adjust), Some(points)) if errors.is_empty() => Ok(Movement::Adjust { points }),
            _ => Err(errors),
        }
    }

    pub fn kind(self) -> EntryKind {
        match self {
            Movement::Earn { .. } => EntryKind::Earn,
            Movement::Spend { .. } => EntryKind::Spend,
            Movement::Adjust { .. } => EntryKind::Adjust,
        }
    }

    /// The signed change it asks for.
    pub fn points(self) -> i64 {
        match self {
            Movement::Earn { points, .. } | Movement::Adjust { points } => points,
            Movement::Spend { points } => -points,
        }
    }

    pub fn expires_at(self) -> Option<OffsetDateTime> {
        match self {
            Movement::Earn { expires_at, .. } => expires_at,
            _ => None,
        }
    }
}

/// A client's request: a movement, with the merchant's reference and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsRequest {
    pub movement: Movement,
    pub reference: Option<PointsReference>,
    pub description: Option<PointsDescription>,
}

/// A client's reversal of an entry, with its own reference and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reversal {
    pub entry: PointsEntryId,
    pub reference: Option<PointsReference>,
    pub description: Option<PointsDescription>,
}

/// An entry of the ledger, as written. Entries are never changed, except that erasure
/// clears their descriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsEntry {
    pub id: PointsEntryId,
    pub user_id: UserId,
    pub kind: EntryKind,
    /// The signed change of the balance.
    pub points: i64,
    pub balance_after: i64,
    pub reference: Option<PointsReference>,
    pub description: Option<PointsDescription>,
    /// When the lot an earn made expires.
    pub expires_at: Option<OffsetDateTime>,
    /// The entry a reversal reverses.
    pub reverses: Option<PointsEntryId>,
    pub origin: Origin,
    pub created_at: OffsetDateTime,
}

impl PointsEntry {
    /// Whether `request` asks for what this entry did: a repeat of the same reference is
    /// answered with the entry only then.
    pub fn answers(&self, user: UserId, request: &PointsRequest) -> bool {
        let movement = request.movement;
        self.user_id == user
            && self.kind == movement.kind()
            && self.points == movement.points()
            && self.expires_at == movement.expires_at()
            && self.description == request.description
    }

    /// Whether a reversal can undo it: earns, spends and adjustments can, once.
    pub fn reversible(&self) -> bool {
        matches!(self.kind, EntryKind::Earn | EntryKind::Spend | EntryKind::Adjust)
    }
}

#[cfg(test)]
mod tests;
