-- Events, committed with the change that made them, and webhook endpoints with their
-- deliveries. An event holds no personal value, so the log outlives erasure.

-- The API key that made a change, where one did.
ALTER TABLE user_changes ADD COLUMN actor_id TEXT;

-- Whether a merchant has webhook endpoints: the deliveries look at those merchants only.
ALTER TABLE merchants ADD COLUMN webhooks INTEGER NOT NULL DEFAULT 0;

-- One writer commits in order, so the position a row is given is the order of commits: a
-- reader that has seen a position has seen every one before it. AUTOINCREMENT never gives
-- a position again, even once the newest events are purged.
CREATE TABLE events (
    position             INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id          TEXT    NOT NULL REFERENCES merchants (id),
    -- Always 0 here: PostgreSQL orders its commits by transaction id first.
    tx                   INTEGER NOT NULL DEFAULT 0,
    id                   TEXT    NOT NULL,
    type                 TEXT    NOT NULL,
    occurred_at          INTEGER NOT NULL,
    resource_type        TEXT    NOT NULL,
    resource_id          TEXT    NOT NULL,
    version              INTEGER,
    surface              TEXT    NOT NULL,
    interaction_point_id TEXT,
    actor_id             TEXT,
    data                 TEXT    NOT NULL,
    UNIQUE (merchant_id, id)
);
CREATE INDEX events_feed ON events (merchant_id, tx, position);
CREATE INDEX events_resource ON events (merchant_id, resource_id, tx, position);

CREATE TABLE webhook_endpoints (
    merchant_id           TEXT    NOT NULL REFERENCES merchants (id),
    id                    TEXT    NOT NULL,
    url                   TEXT    NOT NULL,
    description           TEXT,
    -- JSON arrays: the event types taken (all when empty), the API keys excluded.
    event_types           TEXT    NOT NULL,
    exclude_actors        TEXT    NOT NULL,
    disabled              TEXT    CHECK (disabled IN ('manual', 'gone', 'failing')),
    failing_since         INTEGER,
    -- Sealed under the master key, like the token signing keys.
    secret                BLOB    NOT NULL,
    previous_secret       BLOB,
    previous_secret_until INTEGER,
    -- Where in the event feed the endpoint's deliveries have been made up to.
    cursor_tx             INTEGER NOT NULL,
    cursor_position       INTEGER NOT NULL,
    version               INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
    merchant_id     TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    endpoint_id     TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER,
    -- Who holds the delivery while it is attempted, and until when.
    lease           TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, id),
    UNIQUE (merchant_id, endpoint_id, event_id),
    FOREIGN KEY (merchant_id, endpoint_id) REFERENCES webhook_endpoints (merchant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (merchant_id, next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    merchant_id     TEXT    NOT NULL,
    delivery_id     TEXT    NOT NULL,
    number          INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    status_code     INTEGER,
    duration_ms     INTEGER NOT NULL,
    error           TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    next_attempt_at INTEGER,
    PRIMARY KEY (merchant_id, delivery_id, number),
    FOREIGN KEY (merchant_id, delivery_id) REFERENCES webhook_deliveries (merchant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
