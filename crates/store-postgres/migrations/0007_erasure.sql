-- Erasure reaches stored answers. A completed answer names the user it holds, so erasing
-- the user redacts it; a claim names its lease, so a request whose lease was taken over can
-- neither complete nor release the claim that replaced its own.
ALTER TABLE idempotency_keys ADD COLUMN user_id uuid;
ALTER TABLE idempotency_keys ADD COLUMN lease text;
CREATE INDEX idempotency_keys_user ON idempotency_keys (merchant_id, user_id) WHERE user_id IS NOT NULL;

-- Answers stored before this migration name no user, so no erasure could find them: they
-- go. They are a replay cache of at most 24 hours.
DELETE FROM idempotency_keys WHERE state = 'done';

-- The payment requests of users erased before keep their free text no longer.
UPDATE payment_requests SET segment = '', url_to_document = NULL, debt_meta = '{}'
 WHERE EXISTS (SELECT 1 FROM users u
                WHERE u.merchant_id = payment_requests.merchant_id AND u.id = payment_requests.user_id
                  AND u.erased_at IS NOT NULL);
