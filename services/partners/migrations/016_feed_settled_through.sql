-- Which feed entries the publisher may send, exactly (store/feed.py FEED_PENDING, issue 17). Migration 015 left
-- out the transactions that write no entry, but still judged the writers by their transaction ids: an entry was
-- held back behind a running writer whose id was older than its own writer's. A writer takes its id at its first
-- write (the inbox row) and its positions later, so one with the younger id could take the earlier position:
-- V (id 100) writes its inbox row, W (id 101) its entry at position 1, V its entry at 2 and commits, W still runs;
-- V's entry passed (100 < 101) and went out before position 1, which a reader's cursor then passed too.
--
-- Now a writer says from where its positions start: before its first entry of a statement it takes its shared
-- lock (015) with the sequence's value of that moment as the second key; every position it takes comes after it.
-- `feed_pending` reads, in this order, the highest position taken so far, the lock table, and then (a statement
-- and snapshot of its own, after both) the entries: every entry up to the lower of that position and the lowest
-- value a writer that still runs named may go, because a position at or below both was taken either by a writer
-- that has ended (its entry is in the snapshot, or was rolled back) or by one that still runs, and that one's
-- positions come after the value it named. An entry above it waits, as before, until the writer ends.
CREATE OR REPLACE FUNCTION feed_writer_says_so() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken bigint;
BEGIN
    -- The table by its schema: a writer's search path need not name it. (NULL: no position taken yet.)
    taken := coalesce(pg_sequence_last_value(
        pg_get_serial_sequence(quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME), 'position')::regclass
    ), 0);
    PERFORM pg_advisory_xact_lock_shared(hashtext(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME), (taken % 2147483648)::int);
    RETURN NULL;
END;
$$;

-- At least one row: `first_unsettled` on every row, the first unpublished position the publisher may not send yet
-- (NULL if none), and the entries it may send, in position order, at most `batch` (none: one row of NULLs).
CREATE FUNCTION feed_pending(batch integer)
RETURNS TABLE (first_unsettled bigint, "position" bigint, partner_id uuid, event_id uuid, event_type text,
               "time" timestamptz, library text, data jsonb, trace_context jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    taken bigint;    -- every position taken so far is at most this (read first)
    through bigint;  -- the entries up to here may go
BEGIN
    taken := coalesce(pg_sequence_last_value(pg_get_serial_sequence('feed_entries', 'position')::regclass), 0);
    -- The running writers' values, each 31 bits of a position at most 2^31 below `taken`.
    SELECT least(taken, min(taken - ((taken % 2147483648) - l.objid::bigint + 2147483648) % 2147483648))
      INTO through
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 2
       AND l.classid = hashtext(current_schema() || '.feed_entries')::oid;
    -- A statement of its own: its snapshot is taken after the reads above (READ COMMITTED, a volatile function).
    RETURN QUERY
    SELECT u.first_unsettled, f.position, f.partner_id, f.event_id, f.event_type, f.time, f.library, f.data,
           f.trace_context
    FROM (SELECT min(e.position) AS first_unsettled FROM feed_entries e
          WHERE e.published_at IS NULL AND e.position > through) u
    LEFT JOIN LATERAL (
        SELECT e.position, e.partner_id, e.event_id, e.event_type, e.time, e.library, e.data, e.trace_context
        FROM feed_entries e
        WHERE e.published_at IS NULL AND e.position <= through
        ORDER BY e.position LIMIT batch
    ) f ON true
    ORDER BY f.position;
END;
$$;
