-- Merchants, credentials, interaction points and custom property definitions.

CREATE TABLE merchants (
    id          uuid        NOT NULL CONSTRAINT merchants_pkey PRIMARY KEY,
    number      text        NOT NULL CONSTRAINT merchants_number_key UNIQUE,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL
);

-- Platform keys have no merchant; every other key belongs to exactly one.
CREATE TABLE api_keys (
    id          uuid        NOT NULL CONSTRAINT api_keys_pkey PRIMARY KEY,
    merchant_id uuid        REFERENCES merchants (id),
    role        text        NOT NULL CHECK (role IN ('platform', 'readonly', 'client', 'admin')),
    name        text,
    prefix      text        NOT NULL,
    digest      text        NOT NULL CONSTRAINT api_keys_digest_key UNIQUE,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK ((merchant_id IS NULL) = (role = 'platform'))
);
CREATE INDEX api_keys_by_merchant ON api_keys (merchant_id, created_at);

CREATE TABLE signing_keys (
    kid         text        NOT NULL CONSTRAINT signing_keys_pkey PRIMARY KEY,
    secret      bytea       NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE interaction_points (
    merchant_id uuid        NOT NULL REFERENCES merchants (id),
    id          text        NOT NULL,
    name        text        NOT NULL,
    active      boolean     NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT interaction_points_pkey PRIMARY KEY (merchant_id, id)
);

CREATE TABLE property_definitions (
    merchant_id uuid        NOT NULL REFERENCES merchants (id),
    id          uuid        NOT NULL,
    name        text        NOT NULL,
    value_type  text        NOT NULL CHECK (value_type IN ('string', 'integer', 'decimal', 'boolean', 'date')),
    active      boolean     NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT property_definitions_pkey PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX property_definitions_active_name
    ON property_definitions (merchant_id, name) WHERE active;
