//! Every table Clientele keeps, as both backends' migrations create it.

use super::{
    EVENTS, Erasure, POINTS_ALLOCATIONS, POINTS_ENTRIES, POINTS_LOTS, Personal, Reference, Table, Tenancy,
    WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS, personal, plain, reference,
};

pub const MERCHANTS: Table = Table {
    name: "merchants",
    columns: &[
        plain("id"),
        plain("number"),
        plain("name"),
        plain("created_at"),
        plain("strict_sa_id"),
        plain("webhooks"),
    ],
    tenancy: Tenancy::Platform,
    references: &[],
    personal: None,
};

pub const API_KEYS: Table = Table {
    name: "api_keys",
    columns: &[
        plain("id"),
        plain("merchant_id"),
        plain("role"),
        plain("name"),
        plain("prefix"),
        plain("digest"),
        plain("created_at"),
        plain("revoked_at"),
    ],
    tenancy: Tenancy::Either,
    references: &[],
    personal: None,
};

pub const SIGNING_KEYS: Table = Table {
    name: "signing_keys",
    columns: &[plain("kid"), plain("secret"), plain("created_at")],
    tenancy: Tenancy::Platform,
    references: &[],
    personal: None,
};

pub const INTERACTION_POINTS: Table = Table {
    name: "interaction_points",
    columns: &[plain("merchant_id"), plain("id"), plain("name"), plain("active"), plain("created_at")],
    tenancy: Tenancy::Merchant,
    references: &[],
    personal: None,
};

pub const PROPERTY_DEFINITIONS: Table = Table {
    name: "property_definitions",
    columns: &[
        plain("merchant_id"),
        plain("id"),
        plain("name"),
        plain("value_type"),
        plain("active"),
        plain("created_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[],
    personal: None,
};

/// A user's own row: every personal field. The unique keys (`customer_ref`, national id)
/// are among them, so erasure frees them; the row stays for the records tied to it.
pub const USERS: Table = Table {
    name: "users",
    columns: &[
        plain("merchant_id"),
        plain("id"),
        personal("customer_ref", "NULL"),
        personal("given_name", "NULL"),
        personal("family_name", "NULL"),
        personal("email", "NULL"),
        personal("email_lower", "NULL"),
        personal("phone", "NULL"),
        personal("phone_e164", "NULL"),
        personal("phone_national", "NULL"),
        personal("birth_date", "NULL"),
        personal("gender", "NULL"),
        personal("country", "NULL"),
        personal("national_id", "NULL"),
        personal("passport_number", "NULL"),
        personal("street", "NULL"),
        personal("suburb", "NULL"),
        personal("city", "NULL"),
        personal("region", "NULL"),
        personal("postal_code", "NULL"),
        personal("metadata", "NULL"),
        plain("loyalty_points"),
        plain("version"),
        plain("created_at"),
        plain("updated_at"),
        plain("erased_at"),
        plain("points_expire_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[],
    personal: Some(Personal {
        user_column: "id",
        erasure: Erasure::Clear,
        copies: false,
        why: "the row stays for the records tied to it",
    }),
};

pub const USER_PROPERTIES: Table = Table {
    name: "user_properties",
    columns: &[plain("merchant_id"), plain("user_id"), plain("property_id"), personal("value", "''")],
    tenancy: Tenancy::Merchant,
    references: &[
        reference("merchant_id, user_id", "users"),
        reference("merchant_id, property_id", "property_definitions"),
    ],
    personal: Some(Personal {
        user_column: "user_id",
        erasure: Erasure::Delete,
        copies: false,
        why: "custom values are the user's",
    }),
};

/// Every change of a user: versions, surfaces and interaction points, no personal value, so
/// the history outlives erasure.
pub const USER_CHANGES: Table = Table {
    name: "user_changes",
    columns: &[
        plain("merchant_id"),
        plain("user_id"),
        plain("version"),
        plain("change"),
        plain("surface"),
        plain("interaction_point_id"),
        plain("changed_at"),
        plain("actor_id"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[
        reference("merchant_id, user_id", "users"),
        Reference {
            columns: "merchant_id, interaction_point_id",
            target: "interaction_points",
            target_columns: "merchant_id, id",
            when: "interaction_point_id IS NOT NULL",
        },
    ],
    personal: None,
};

/// A request's `Idempotency-Key`: claimed while the request runs, then holding its answer.
/// An answer that holds a user is redacted by the user's erasure; the key and its
/// fingerprint stay, so a repeat is still recognised (and answered as the user is now: not
/// found) instead of being done again.
pub const IDEMPOTENCY_KEYS: Table = Table {
    name: "idempotency_keys",
    columns: &[
        plain("merchant_id"),
        plain("key"),
        plain("fingerprint"),
        plain("state"),
        plain("status"),
        personal("headers", "NULL"),
        personal("body", "NULL"),
        plain("user_id"),
        plain("created_at"),
        plain("locked_until"),
        plain("lease"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[Reference {
        columns: "merchant_id, user_id",
        target: "users",
        target_columns: "merchant_id, id",
        when: "user_id IS NOT NULL",
    }],
    personal: Some(Personal {
        user_column: "user_id",
        erasure: Erasure::Clear,
        copies: true,
        why: "a stored answer that holds the user is redacted",
    }),
};

/// A contract: the merchant's number, terms and tracking code, the financial record, no
/// personal value.
pub const CONTRACTS: Table = Table {
    name: "contracts",
    columns: &[
        plain("merchant_id"),
        plain("id"),
        plain("user_id"),
        plain("contract_number"),
        plain("instalment_amount"),
        plain("number_of_instalments"),
        plain("instalment_start"),
        plain("tracking_code"),
        plain("frequency_code"),
        plain("collection_day"),
        plain("status"),
        plain("version"),
        plain("created_at"),
        plain("updated_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[reference("merchant_id, user_id", "users")],
    personal: None,
};

/// Numbers that increase per merchant, by name (a surface's call numbers).
pub const SEQUENCES: Table = Table {
    name: "sequences",
    columns: &[plain("merchant_id"), plain("name"), plain("value")],
    tenancy: Tenancy::Merchant,
    references: &[],
    personal: None,
};

/// A payment request stays as a financial record: amount, invoice number, dates, currency,
/// channel and status. What the merchant sent as free text goes with the user.
pub const PAYMENT_REQUESTS: Table = Table {
    name: "payment_requests",
    columns: &[
        plain("merchant_id"),
        plain("id"),
        plain("public_access_guid"),
        plain("user_id"),
        plain("invoice_number"),
        personal("segment", "''"),
        plain("amount_outstanding"),
        plain("currency"),
        plain("channel"),
        plain("debt_date"),
        personal("url_to_document", "NULL"),
        personal("debt_meta", "'{}'"),
        plain("status"),
        plain("viewed_at"),
        plain("paid_at"),
        plain("cancelled_at"),
        plain("version"),
        plain("created_at"),
        plain("updated_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[reference("merchant_id, user_id", "users")],
    personal: Some(Personal {
        user_column: "user_id",
        erasure: Erasure::Clear,
        copies: false,
        why: "a payment request stays as a financial record",
    }),
};

/// The capability a debtor holds: a GUID naming its merchant's payment request. Found by
/// the GUID alone, so keyed by it, without a foreign key (Citus distributes it by the GUID);
/// the invariants match links and requests both ways.
pub const PUBLIC_LINKS: Table = Table {
    name: "public_links",
    columns: &[plain("guid"), plain("merchant_id"), plain("payment_request_id")],
    tenancy: Tenancy::FoundBy("guid"),
    references: &[],
    personal: None,
};

/// What a merchant's payment page shows of it and how its debtors pay: its name, contact
/// details, bank details and payment URL template. The merchant's own data, one row.
pub const PAYMENT_PAGES: Table = Table {
    name: "payment_pages",
    columns: &[
        plain("merchant_id"),
        plain("display_name"),
        plain("contact_email"),
        plain("contact_phone"),
        plain("bank_name"),
        plain("account_holder"),
        plain("account_number"),
        plain("branch_code"),
        plain("reference_template"),
        plain("payment_url_template"),
        plain("version"),
        plain("updated_at"),
    ],
    tenancy: Tenancy::Merchant,
    references: &[],
    personal: None,
};

/// Every table, in the order the migrations create them.
pub const TABLES: &[Table] = &[
    MERCHANTS,
    API_KEYS,
    SIGNING_KEYS,
    INTERACTION_POINTS,
    PROPERTY_DEFINITIONS,
    USERS,
    USER_PROPERTIES,
    IDEMPOTENCY_KEYS,
    USER_CHANGES,
    CONTRACTS,
    SEQUENCES,
    PAYMENT_REQUESTS,
    PAYMENT_PAGES,
    PUBLIC_LINKS,
    EVENTS,
    WEBHOOK_ENDPOINTS,
    WEBHOOK_DELIVERIES,
    WEBHOOK_ATTEMPTS,
    POINTS_ENTRIES,
    POINTS_LOTS,
    POINTS_ALLOCATIONS,
];
