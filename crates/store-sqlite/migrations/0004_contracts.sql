-- Debit-order contracts, a phone's national number for lookups, merchant settings, and
-- RealPay's per-merchant call sequence.

ALTER TABLE users ADD COLUMN phone_national TEXT;
CREATE INDEX users_phone_national ON users (merchant_id, phone_national, id) WHERE phone_national IS NOT NULL;

ALTER TABLE merchants ADD COLUMN strict_sa_id INTEGER NOT NULL DEFAULT 0 CHECK (strict_sa_id IN (0, 1));

CREATE TABLE contracts (
    merchant_id           TEXT    NOT NULL,
    id                    TEXT    NOT NULL,
    user_id               TEXT    NOT NULL,
    contract_number       TEXT    NOT NULL,
    -- The terms are all set or all NULL (a contract known by number only).
    -- Exact decimal text with two places: money is never a float.
    instalment_amount     TEXT   ,
    number_of_instalments INTEGER CHECK (number_of_instalments >= 1),
    instalment_start      TEXT   ,
    tracking_code         TEXT   ,
    frequency_code        TEXT   ,
    collection_day        INTEGER CHECK (collection_day BETWEEN 1 AND 31),
    status                TEXT    NOT NULL CHECK (status IN ('active', 'cancelled')),
    version               INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, id),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id),
    CHECK ((instalment_amount IS NULL) = (frequency_code IS NULL))
) WITHOUT ROWID;
CREATE UNIQUE INDEX contracts_number ON contracts (merchant_id, contract_number);
CREATE INDEX contracts_user ON contracts (merchant_id, user_id, created_at);

CREATE TABLE call_sequences (
    merchant_id TEXT    NOT NULL PRIMARY KEY REFERENCES merchants (id),
    value       INTEGER NOT NULL
) WITHOUT ROWID;
