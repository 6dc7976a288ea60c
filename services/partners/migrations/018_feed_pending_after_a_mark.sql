-- The feed publisher marks a batch it sent whole and reads the next in one statement (store/feed.py
-- FEED_MARK_PUBLISHED_AND_NEXT), as the outbox relays do (kernel's MARK_SENT_AND_NEXT): entries that committed
-- while the batch was out are found without waiting for the mark's round trip and then for the read's. The
-- entries being marked may still look unpublished to the read, so `feed_pending` leaves out the positions it is
-- given, by position: an earlier one whose writer commits later is still found. (Called with one argument, as
-- before, it leaves out none.)
DROP FUNCTION feed_pending(integer);

CREATE FUNCTION feed_pending(batch integer, marking bigint[] DEFAULT '{}')
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
          WHERE e.published_at IS NULL AND e.position > through AND e.position <> ALL(marking)) u
    LEFT JOIN LATERAL (
        SELECT e.position, e.partner_id, e.event_id, e.event_type, e.time, e.library, e.data, e.trace_context
        FROM feed_entries e
        WHERE e.published_at IS NULL AND e.position <= through AND e.position <> ALL(marking)
        ORDER BY e.position LIMIT batch
    ) f ON true
    ORDER BY f.position;
END;
$$;
