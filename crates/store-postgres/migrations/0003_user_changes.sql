-- Every change of a user: the version it produced, what it did, and where it came from.
-- No personal data, so the history outlives erasure.
CREATE TABLE user_changes (
    merchant_id          uuid        NOT NULL,
    user_id              uuid        NOT NULL,
    version              bigint      NOT NULL,
    change               text        NOT NULL CHECK (change IN ('created', 'updated', 'erased')),
    surface              text        NOT NULL,
    interaction_point_id text,
    changed_at           timestamptz NOT NULL,
    CONSTRAINT user_changes_pkey PRIMARY KEY (merchant_id, user_id, version),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id)
);
