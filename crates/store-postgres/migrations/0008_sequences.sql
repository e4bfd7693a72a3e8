-- Numbers that increase per merchant, by name: a surface numbers its calls with one of its
-- own. RealPay's call sequence, kept per merchant until now, becomes the sequence
-- `realpay.calls`, continuing from where it stood.
CREATE TABLE sequences (
    merchant_id uuid   NOT NULL REFERENCES merchants (id),
    name        text   NOT NULL,
    value       bigint NOT NULL,
    CONSTRAINT sequences_pkey PRIMARY KEY (merchant_id, name)
);
INSERT INTO sequences (merchant_id, name, value) SELECT merchant_id, 'realpay.calls', value FROM call_sequences;
DROP TABLE call_sequences;
