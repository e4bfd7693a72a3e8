-- Numbers that increase per merchant, by name: a surface numbers its calls with one of its
-- own. RealPay's call sequence, kept per merchant until now, becomes the sequence
-- `realpay.calls`, continuing from where it stood.
CREATE TABLE sequences (
    merchant_id TEXT    NOT NULL REFERENCES merchants (id),
    name        TEXT    NOT NULL,
    value       INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, name)
) WITHOUT ROWID;
INSERT INTO sequences (merchant_id, name, value) SELECT merchant_id, 'realpay.calls', value FROM call_sequences;
DROP TABLE call_sequences;
