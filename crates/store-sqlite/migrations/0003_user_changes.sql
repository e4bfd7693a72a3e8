-- Every change of a user: the version it produced, what it did, and where it came from.
-- No personal data, so the history outlives erasure.
CREATE TABLE user_changes (
    merchant_id          TEXT    NOT NULL,
    user_id              TEXT    NOT NULL,
    version              INTEGER NOT NULL,
    change               TEXT    NOT NULL CHECK (change IN ('created', 'updated', 'erased')),
    surface              TEXT    NOT NULL,
    interaction_point_id TEXT,
    changed_at           INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, user_id, version),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id)
) WITHOUT ROWID;
