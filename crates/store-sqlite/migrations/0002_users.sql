-- Users, their custom property values, and idempotency keys.

CREATE TABLE users (
    merchant_id     TEXT    NOT NULL REFERENCES merchants (id),
    id              TEXT    NOT NULL,
    customer_ref    TEXT,
    given_name      TEXT,
    family_name     TEXT,
    email           TEXT,
    email_lower     TEXT,
    phone           TEXT,
    phone_e164      TEXT,
    birth_date      TEXT,
    gender          TEXT    CHECK (gender IN ('MALE', 'FEMALE', 'DIVERSE')),
    country         TEXT,
    national_id     TEXT,
    passport_number TEXT,
    street          TEXT,
    suburb          TEXT,
    city            TEXT,
    region          TEXT,
    postal_code     TEXT,
    loyalty_points  INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- Set when the user is erased; the row stays for the financial records tied to it.
    erased_at       INTEGER,
    PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
-- Erasure clears these, which frees them for new users.
CREATE UNIQUE INDEX users_customer_ref ON users (merchant_id, customer_ref) WHERE customer_ref IS NOT NULL;
CREATE UNIQUE INDEX users_national_id
    ON users (merchant_id, COALESCE(country, ''), national_id) WHERE national_id IS NOT NULL;
-- Lookups: each index holds what its query needs, so the query reads only the index.
CREATE INDEX users_national_id_lookup ON users (merchant_id, national_id, country, id) WHERE national_id IS NOT NULL;
CREATE INDEX users_email ON users (merchant_id, email_lower, id) WHERE email_lower IS NOT NULL;
CREATE INDEX users_phone ON users (merchant_id, phone, id) WHERE phone IS NOT NULL;
CREATE INDEX users_phone_e164 ON users (merchant_id, phone_e164, id) WHERE phone_e164 IS NOT NULL;
CREATE INDEX users_created ON users (merchant_id, created_at, id);

CREATE TABLE user_properties (
    merchant_id TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    property_id TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (merchant_id, user_id, property_id),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id),
    FOREIGN KEY (merchant_id, property_id) REFERENCES property_definitions (merchant_id, id)
) WITHOUT ROWID;

-- A request's Idempotency-Key: claimed while the request runs, then holding its answer.
CREATE TABLE idempotency_keys (
    merchant_id  TEXT    NOT NULL REFERENCES merchants (id),
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('in_flight', 'done')),
    status       INTEGER,
    headers      TEXT,
    body         BLOB,
    created_at   INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (merchant_id, created_at);
