-- Debit-order contracts, a phone's national number for lookups, merchant settings, and
-- RealPay's per-merchant call sequence.

ALTER TABLE users ADD COLUMN phone_national text;
CREATE INDEX users_phone_national ON users (merchant_id, phone_national, id) WHERE phone_national IS NOT NULL;

ALTER TABLE merchants ADD COLUMN strict_sa_id boolean NOT NULL DEFAULT false;

CREATE TABLE contracts (
    merchant_id           uuid          NOT NULL,
    id                    uuid          NOT NULL,
    user_id               uuid          NOT NULL,
    contract_number       text          NOT NULL,
    -- The terms are all set or all NULL (a contract known by number only).
    instalment_amount     numeric(14,2) CHECK (instalment_amount > 0),
    number_of_instalments integer       CHECK (number_of_instalments >= 1),
    instalment_start      timestamp,
    tracking_code         text,
    frequency_code        text,
    collection_day        smallint      CHECK (collection_day BETWEEN 1 AND 31),
    status                text          NOT NULL CHECK (status IN ('active', 'cancelled')),
    version               bigint        NOT NULL,
    created_at            timestamptz   NOT NULL,
    updated_at            timestamptz   NOT NULL,
    CONSTRAINT contracts_pkey PRIMARY KEY (merchant_id, id),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id),
    CHECK ((instalment_amount IS NULL) = (frequency_code IS NULL))
);
CREATE UNIQUE INDEX contracts_number ON contracts (merchant_id, contract_number);
CREATE INDEX contracts_user ON contracts (merchant_id, user_id, created_at);

CREATE TABLE call_sequences (
    merchant_id uuid   NOT NULL CONSTRAINT call_sequences_pkey PRIMARY KEY REFERENCES merchants (id),
    value       bigint NOT NULL
);
