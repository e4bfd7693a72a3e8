//! The tables of the loyalty points ledger, as both backends' migrations create them.

use super::{Erasure, Personal, Reference, Table, Tenancy, personal, plain, reference};

/// A user's points entries: kinds, points, balances, times and the merchant's references.
/// Entries are never changed or deleted; erasure clears their descriptions, which are the
/// merchant's free text about the user.
pub const POINTS_ENTRIES: Table = Table {
    name: "points_entries",
    columns: &[
        plain("merchant_id"),
        plain("id"),
        plain("user_id"),
        plain("kind"),
        plain("points"),
        plain("balance_after"),
        plain("reference"),
        personal("description", "NULL"),
        plain("expires_at"),
        plain("reverses"),
        plain("surface"),
        plain("interaction_point_id"),
        plain("actor_id"),
        plain("created_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[reference("merchant_id, user_id", "users")],
    personal: Some(Personal {
        user_column: "user_id",
        erasure: Erasure::Clear,
        copies: false,
        why: "the ledger stays with its amounts and times; descriptions go",
    }),
};

/// What is left of the points an earn or a positive adjustment brought.
pub const POINTS_LOTS: Table = Table {
    name: "points_lots",
    columns: &[plain("merchant_id"), plain("entry_id"), plain("user_id"), plain("remaining"), plain("expires_at")],
    tenancy: Tenancy::Merchant,
    references: &[Reference {
        columns: "merchant_id, entry_id",
        target: "points_entries",
        target_columns: "merchant_id, id",
        when: "1 = 1",
    }],
    personal: None,
};

/// The points an entry took from a lot (positive) or gave back to it (negative).
pub const POINTS_ALLOCATIONS: Table = Table {
    name: "points_allocations",
    columns: &[plain("merchant_id"), plain("entry_id"), plain("lot_id"), plain("points")],
    tenancy: Tenancy::Merchant,
    references: &[
        Reference {
            columns: "merchant_id, entry_id",
            target: "points_entries",
            target_columns: "merchant_id, id",
            when: "1 = 1",
        },
        Reference {
            columns: "merchant_id, lot_id",
            target: "points_lots",
            target_columns: "merchant_id, entry_id",
            when: "1 = 1",
        },
    ],
    personal: None,
};
