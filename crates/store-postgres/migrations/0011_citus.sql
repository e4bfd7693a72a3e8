-- Ready for Citus, distributed by merchant: a public link is found by its GUID alone, before
-- its merchant is known, so its table is keyed by the GUID (Citus distributes it by the GUID)
-- and can hold no foreign key to a table distributed by merchant. `clientele check` keeps
-- links and payment requests matched instead (payment_requests.public_link and
-- public_links.payment_request).
ALTER TABLE public_links DROP CONSTRAINT public_links_merchant_id_payment_request_id_fkey;

-- An event is ordered by the id of the transaction that wrote it, and a reader takes the
-- events below its snapshot's horizon. Both must come from the database that holds the
-- row: on Citus an INSERT's defaults are evaluated on the coordinator (its transaction ids
-- are not a worker's), while the feed's horizon is evaluated on the worker that holds the
-- merchant's shard. A trigger runs where the row is written, so the id is that database's.
CREATE FUNCTION events_tx() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tx := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$;
CREATE TRIGGER events_tx BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_tx();
ALTER TABLE events ALTER COLUMN tx DROP DEFAULT;
