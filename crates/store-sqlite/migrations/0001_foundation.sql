-- Merchants, credentials, interaction points and custom property definitions.
-- Times are microseconds since the Unix epoch (UTC); ids are hyphenated UUID text.

CREATE TABLE merchants (
    id          TEXT    NOT NULL PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Platform keys have no merchant; every other key belongs to exactly one.
CREATE TABLE api_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    merchant_id TEXT    REFERENCES merchants (id),
    role        TEXT    NOT NULL CHECK (role IN ('platform', 'readonly', 'client', 'admin')),
    name        TEXT,
    prefix      TEXT    NOT NULL,
    digest      TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CHECK ((merchant_id IS NULL) = (role = 'platform'))
);
CREATE INDEX api_keys_by_merchant ON api_keys (merchant_id, created_at);

CREATE TABLE signing_keys (
    kid         TEXT    NOT NULL PRIMARY KEY,
    secret      BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE interaction_points (
    merchant_id TEXT    NOT NULL REFERENCES merchants (id),
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;

CREATE TABLE property_definitions (
    merchant_id TEXT    NOT NULL REFERENCES merchants (id),
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    value_type  TEXT    NOT NULL CHECK (value_type IN ('string', 'integer', 'decimal', 'boolean', 'date')),
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX property_definitions_active_name
    ON property_definitions (merchant_id, name) WHERE active = 1;
