//! A balance at any time, from the entries written up to then: the lots made by then, less
//! what had been taken from them by then, counting only the lots still live at that time.
//! An expiry that no entry has written yet counts from the lot's expiry, so the balance is
//! exact before the sweep has run.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::{Allocation, EntryKind, PointsEntry, PointsEntryId};

/// An entry and the allocations it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryAllocations {
    pub entry: PointsEntry,
    pub allocations: Vec<Allocation>,
}

/// The balance at `at`, from a user's entries (in any order; those after `at` are passed over).
pub fn balance_as_of(entries: &[EntryAllocations], at: OffsetDateTime) -> i64 {
    let written: Vec<&EntryAllocations> = entries.iter().filter(|e| e.entry.created_at <= at).collect();
    // Lots made by then: by an earn, or an adjustment that added points.
    let mut lots: HashMap<PointsEntryId, (i64, Option<OffsetDateTime>)> = written
        .iter()
        .filter(|e| matches!(e.entry.kind, EntryKind::Earn | EntryKind::Adjust) && e.entry.points > 0)
        .map(|e| (e.entry.id, (e.entry.points, e.entry.expires_at)))
        .collect();
    for allocation in written.iter().flat_map(|e| &e.allocations) {
        if let Some((remaining, _)) = lots.get_mut(&allocation.lot) {
            *remaining -= allocation.points;
        }
    }
    lots.values().filter(|(_, expiry)| expiry.is_none_or(|expiry| expiry > at)).map(|(remaining, _)| remaining).sum()
}
