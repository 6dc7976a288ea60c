-- The HTTP feed's pages by the publisher's rule (016), so a reader paging by position never passes an entry that
-- is still to come. A page showed the entries whose writer's transaction id was older than every transaction still
-- running (pg_snapshot_xmin): it waited behind transactions that write no entry (submits, other services' batches),
-- and it let an entry through while a writer with a younger id that had taken an earlier position ran on (016's
-- V and W), so the reader's cursor passed that position for good. `feed_settled_through()` is how far every
-- position is settled: the highest position taken, read first, or the lowest value a writer that still runs named
-- in its lock (015, 016), if lower. An entry at or below it that is not in a snapshot taken after this call never
-- will be: its writer has ended. The page is read in such a snapshot (store/feed.py read_feed_page: a statement
-- after this one), and the publisher's `feed_pending` calls it before its own.
CREATE FUNCTION feed_settled_through() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    taken bigint;  -- every position taken so far is at most this (read before the locks)
    through bigint;
BEGIN
    taken := coalesce(pg_sequence_last_value(pg_get_serial_sequence('feed_entries', 'position')::regclass), 0);
    -- The running writers' values, each 31 bits of a position at most 2^31 below `taken`.
    SELECT least(taken, min(taken - ((taken % 2147483648) - l.objid::bigint + 2147483648) % 2147483648))
      INTO through
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 2
       AND l.classid = hashtext(current_schema() || '.feed_entries')::oid;
    RETURN through;
END;
$$;

CREATE OR REPLACE FUNCTION feed_pending(batch integer)
RETURNS TABLE (first_unsettled bigint, "position" bigint, partner_id uuid, event_id uuid, event_type text,
               "time" timestamptz, library text, data jsonb, trace_context jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    through bigint := feed_settled_through();
BEGIN
    -- A statement of its own: its snapshot is taken after feed_settled_through's reads (READ COMMITTED, volatile).
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
