-- The loyalty points ledger: append-only entries per user, the lots that earns and positive
-- adjustments make, and which lots each taking entry took its points from (or gave them back
-- to). `users.loyalty_points` is the sum of a user's entries; `users.points_expire_at` is
-- when the next of its lots holding points expires, so a read knows when it must count an
-- expiry that no entry has written yet. A user's lots are keyed under the user, so the lots a
-- write loads are one range of the key.
ALTER TABLE users ADD COLUMN points_expire_at timestamptz;

CREATE TABLE points_entries (
    merchant_id          uuid        NOT NULL,
    id                   uuid        NOT NULL,
    user_id              uuid        NOT NULL,
    kind                 text        NOT NULL
        CHECK (kind IN ('earn', 'spend', 'adjust', 'expire', 'reverse', 'reset')),
    points               bigint      NOT NULL,
    balance_after        bigint      NOT NULL CHECK (balance_after >= 0),
    reference            text,
    description          text,
    expires_at           timestamptz,
    reverses             uuid,
    surface              text        NOT NULL,
    interaction_point_id text,
    actor_id             uuid,
    created_at           timestamptz NOT NULL,
    CONSTRAINT points_entries_pkey PRIMARY KEY (merchant_id, id),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id)
);

CREATE UNIQUE INDEX points_entries_reference ON points_entries (merchant_id, reference) WHERE reference IS NOT NULL;

CREATE UNIQUE INDEX points_entries_reverses ON points_entries (merchant_id, reverses) WHERE reverses IS NOT NULL;

CREATE INDEX points_entries_user ON points_entries (merchant_id, user_id, created_at, id);

CREATE TABLE points_lots (
    merchant_id uuid        NOT NULL,
    entry_id    uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    remaining   bigint      NOT NULL CHECK (remaining >= 0),
    expires_at  timestamptz,
    CONSTRAINT points_lots_pkey PRIMARY KEY (merchant_id, user_id, entry_id),
    FOREIGN KEY (merchant_id, entry_id) REFERENCES points_entries (merchant_id, id)
);

CREATE UNIQUE INDEX points_lots_entry ON points_lots (merchant_id, entry_id);

CREATE INDEX points_lots_expiry ON points_lots (merchant_id, expires_at, user_id) WHERE remaining > 0 AND expires_at IS NOT NULL;

CREATE TABLE points_allocations (
    merchant_id uuid   NOT NULL,
    entry_id    uuid   NOT NULL,
    lot_id      uuid   NOT NULL,
    points      bigint NOT NULL,
    CONSTRAINT points_allocations_pkey PRIMARY KEY (merchant_id, entry_id, lot_id),
    FOREIGN KEY (merchant_id, entry_id) REFERENCES points_entries (merchant_id, id),
    FOREIGN KEY (merchant_id, lot_id) REFERENCES points_lots (merchant_id, entry_id)
);
