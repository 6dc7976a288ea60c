-- A feed entry's position comes from a sequence when it is inserted, so between writers that run at once entries
-- commit out of position order, and the feed publisher holds an entry back while a transaction that may still
-- commit an earlier one runs (store/feed.py FEED_PENDING). It counted every transaction of the server that was
-- older than the entry's writer: the referrals' submits, the other services' consumers, the relays' marks, none of
-- which writes an entry, held the partners' feed back too (issue 17). A writer of entries now says so: before
-- its first entry it takes, for the rest of its transaction, a shared advisory lock named after the table. No one
-- takes it exclusively, so no writer waits for another; the publisher reads who holds it (pg_locks).
CREATE FUNCTION feed_writer_says_so() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME), 0);
    RETURN NULL;
END;
$$;

CREATE TRIGGER feed_entries_writer BEFORE INSERT ON feed_entries
    FOR EACH STATEMENT EXECUTE FUNCTION feed_writer_says_so();
