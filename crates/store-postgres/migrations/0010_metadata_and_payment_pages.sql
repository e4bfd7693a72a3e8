-- Free-form metadata on users, and the payment page a merchant sets up for its debtors.

-- A user's metadata: a JSON object of strings, NULL for none. Personal: erasure clears it.
-- Looked up by one key and value through containment, which the index answers.
ALTER TABLE users ADD COLUMN metadata text;
CREATE INDEX users_metadata ON users USING gin ((metadata::jsonb)) WHERE metadata IS NOT NULL;

-- What a debtor's payment page shows of its merchant and how to pay: its name and contact
-- details, bank details with the reference to quote, and a payment URL template. The
-- merchant's own data, no debtor's; a tenant table keyed by merchant (co-located with users
-- on Citus).
CREATE TABLE payment_pages (
    merchant_id          uuid        NOT NULL REFERENCES merchants (id),
    display_name         text,
    contact_email        text,
    contact_phone        text,
    bank_name            text,
    account_holder       text,
    account_number       text,
    branch_code          text,
    reference_template   text,
    payment_url_template text,
    version              bigint      NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT payment_pages_pkey PRIMARY KEY (merchant_id)
);
