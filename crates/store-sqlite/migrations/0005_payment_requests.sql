-- Once-off payment requests, and the public links that find them without a merchant.

CREATE TABLE payment_requests (
    merchant_id        TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    public_access_guid TEXT    NOT NULL,
    user_id            TEXT    NOT NULL,
    invoice_number     TEXT    NOT NULL,
    segment            TEXT    NOT NULL,
    -- Exact decimal text with two places: money is never a float.
    amount_outstanding TEXT    NOT NULL,
    currency           TEXT    NOT NULL,
    channel            TEXT    NOT NULL,
    debt_date          TEXT,
    url_to_document    TEXT,
    debt_meta          TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('created', 'viewed', 'paid', 'cancelled')),
    viewed_at          INTEGER,
    paid_at            INTEGER,
    cancelled_at       INTEGER,
    version            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, id),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX payment_requests_invoice ON payment_requests (merchant_id, invoice_number);
CREATE INDEX payment_requests_user ON payment_requests (merchant_id, user_id);

-- The public GUID is the capability a debtor holds; it names its merchant.
CREATE TABLE public_links (
    guid               TEXT NOT NULL PRIMARY KEY,
    merchant_id        TEXT NOT NULL,
    payment_request_id TEXT NOT NULL,
    FOREIGN KEY (merchant_id, payment_request_id) REFERENCES payment_requests (merchant_id, id)
) WITHOUT ROWID;
