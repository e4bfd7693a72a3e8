-- Once-off payment requests, and the public links that find them without a merchant.

CREATE TABLE payment_requests (
    merchant_id        uuid          NOT NULL,
    id                 uuid          NOT NULL,
    public_access_guid uuid          NOT NULL,
    user_id            uuid          NOT NULL,
    invoice_number     text          NOT NULL,
    segment            text          NOT NULL,
    amount_outstanding numeric(14,2) NOT NULL CHECK (amount_outstanding >= 0),
    currency           text          NOT NULL,
    channel            text          NOT NULL,
    debt_date          date,
    url_to_document    text,
    debt_meta          text          NOT NULL,
    status             text          NOT NULL CHECK (status IN ('created', 'viewed', 'paid', 'cancelled')),
    viewed_at          timestamptz,
    paid_at            timestamptz,
    cancelled_at       timestamptz,
    version            bigint        NOT NULL,
    created_at         timestamptz   NOT NULL,
    updated_at         timestamptz   NOT NULL,
    CONSTRAINT payment_requests_pkey PRIMARY KEY (merchant_id, id),
    FOREIGN KEY (merchant_id, user_id) REFERENCES users (merchant_id, id)
);
CREATE UNIQUE INDEX payment_requests_invoice ON payment_requests (merchant_id, invoice_number);
CREATE INDEX payment_requests_user ON payment_requests (merchant_id, user_id);

-- The public GUID is the capability a debtor holds; it names its merchant.
CREATE TABLE public_links (
    guid               uuid NOT NULL CONSTRAINT public_links_pkey PRIMARY KEY,
    merchant_id        uuid NOT NULL,
    payment_request_id uuid NOT NULL,
    FOREIGN KEY (merchant_id, payment_request_id) REFERENCES payment_requests (merchant_id, id)
);
