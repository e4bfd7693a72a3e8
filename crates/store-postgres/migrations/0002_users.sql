-- Users, their custom property values, and idempotency keys.

CREATE TABLE users (
    merchant_id     uuid        NOT NULL REFERENCES merchants (id),
    id              uuid        NOT NULL,
    customer_ref    text,
    given_name      text,
    family_name     text,
    email           text,
    email_lower     text,
    phone           text,
    phone_e164      text,
    birth_date      date,
    gender          text        CHECK (gender IN ('MALE', 'FEMALE', 'DIVERSE')),
    country         text,
    national_id     text,
    passport_number text,
    street          text,
    suburb          text,
    city            text,
    region          text,
    postal_code     text,
    loyalty_points  bigint      NOT NULL DEFAULT 0,
    version         bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- Set when the user is erased; the row stays for the financial records tied to it.
    erased_at       timestamptz,
    CONSTRAINT users_pkey PRIMARY KEY (merchant_id, id)
);
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
    merchant_id uuid NOT NULL,
    user_id     uuid NOT NULL,
    property_id uuid NOT NULL,
    value       text NOT NULL,
    CONSTRAINT user_properties_pkey PRIMARY KEY (merchant_id, user_id, property_id),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id),
    FOREIGN KEY (merchant_id, property_id) REFERENCES property_definitions (merchant_id, id)
);

-- A request's Idempotency-Key: claimed while the request runs, then holding its answer.
CREATE TABLE idempotency_keys (
    merchant_id  uuid        NOT NULL REFERENCES merchants (id),
    key          text        NOT NULL,
    fingerprint  text        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('in_flight', 'done')),
    status       integer,
    headers      text,
    body         bytea,
    created_at   timestamptz NOT NULL,
    locked_until timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (merchant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (merchant_id, created_at);
