-- Events, committed with the change that made them, and webhook endpoints with their
-- deliveries. An event holds no personal value, so the log outlives erasure.

-- The API key that made a change, where one did.
ALTER TABLE user_changes ADD COLUMN actor_id uuid;

-- Whether a merchant has webhook endpoints: the deliveries look at those merchants only.
ALTER TABLE merchants ADD COLUMN webhooks boolean NOT NULL DEFAULT false;

-- Transactions commit out of order, so an event is ordered by the id of the transaction
-- that wrote it, then by its position in it. A reader takes only the events of
-- transactions below its snapshot's horizon (every one of them has ended), so an event that
-- commits later always comes after what the reader has seen.
CREATE SEQUENCE event_positions;
CREATE TABLE events (
    merchant_id          uuid        NOT NULL REFERENCES merchants (id),
    tx                   bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    position             bigint      NOT NULL DEFAULT nextval('event_positions'),
    id                   uuid        NOT NULL,
    type                 text        NOT NULL,
    occurred_at          timestamptz NOT NULL,
    resource_type        text        NOT NULL,
    resource_id          uuid        NOT NULL,
    version              bigint,
    surface              text        NOT NULL,
    interaction_point_id text,
    actor_id             uuid,
    data                 text        NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (merchant_id, tx, position),
    CONSTRAINT events_id_key UNIQUE (merchant_id, id)
);
CREATE INDEX events_resource ON events (merchant_id, resource_id, tx, position);

CREATE TABLE webhook_endpoints (
    merchant_id           uuid        NOT NULL REFERENCES merchants (id),
    id                    uuid        NOT NULL,
    url                   text        NOT NULL,
    description           text,
    -- JSON arrays: the event types taken (all when empty), the API keys excluded.
    event_types           text        NOT NULL,
    exclude_actors        text        NOT NULL,
    disabled              text        CHECK (disabled IN ('manual', 'gone', 'failing')),
    failing_since         timestamptz,
    -- Sealed under the master key, like the token signing keys.
    secret                bytea       NOT NULL,
    previous_secret       bytea,
    previous_secret_until timestamptz,
    -- Where in the event feed the endpoint's deliveries have been made up to.
    cursor_tx             bigint      NOT NULL,
    cursor_position       bigint      NOT NULL,
    version               bigint      NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (merchant_id, id)
);

CREATE TABLE webhook_deliveries (
    merchant_id     uuid        NOT NULL,
    id              uuid        NOT NULL,
    endpoint_id     uuid        NOT NULL,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer     NOT NULL,
    next_attempt_at timestamptz,
    -- Who holds the delivery while it is attempted, and until when.
    lease           text,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (merchant_id, id),
    CONSTRAINT webhook_deliveries_event_key UNIQUE (merchant_id, endpoint_id, event_id),
    FOREIGN KEY (merchant_id, endpoint_id) REFERENCES webhook_endpoints (merchant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (merchant_id, next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    merchant_id     uuid        NOT NULL,
    delivery_id     uuid        NOT NULL,
    number          integer     NOT NULL,
    at              timestamptz NOT NULL,
    status_code     integer,
    duration_ms     integer     NOT NULL,
    error           text,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    next_attempt_at timestamptz,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (merchant_id, delivery_id, number),
    FOREIGN KEY (merchant_id, delivery_id) REFERENCES webhook_deliveries (merchant_id, id) ON DELETE CASCADE
);
