-- Free-form metadata on users, and the payment page a merchant sets up for its debtors.

-- A user's metadata: a JSON object of strings, NULL for none. Personal: erasure clears it.
ALTER TABLE users ADD COLUMN metadata TEXT;

-- What a debtor's payment page shows of its merchant and how to pay: its name and contact
-- details, bank details with the reference to quote, and a payment URL template. The
-- merchant's own data, no debtor's.
CREATE TABLE payment_pages (
    merchant_id          TEXT    NOT NULL REFERENCES merchants (id),
    display_name         TEXT,
    contact_email        TEXT,
    contact_phone        TEXT,
    bank_name            TEXT,
    account_holder       TEXT,
    account_number       TEXT,
    branch_code          TEXT,
    reference_template   TEXT,
    payment_url_template TEXT,
    version              INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (merchant_id)
);
