-- Feed entries go out on NATS, and webhook deliveries to partners' endpoints, as soon as they are written:
-- triggers NOTIFY the partners service's relays at commit (shared/relay.py), instead of a poll a second.
-- A feed entry keeps the trace context of the event that caused it, so its publish continues that trace.
ALTER TABLE feed_entries ADD COLUMN trace_context jsonb NOT NULL DEFAULT '{}'::jsonb;

CREATE FUNCTION notify_feed_publisher() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partnernet_feeds_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER feed_entries_written AFTER INSERT ON feed_entries
    FOR EACH STATEMENT EXECUTE FUNCTION notify_feed_publisher();

-- A delivery to try now: a new one, or one replayed (both pending, untried, unclaimed). Retries of failed
-- tries are due later and are found by the worker's poll.
CREATE FUNCTION notify_webhook_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partnernet_webhooks_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER deliveries_due AFTER INSERT OR UPDATE OF status, attempts ON deliveries
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.attempts = 0 AND NEW.lease_until IS NULL)
    EXECUTE FUNCTION notify_webhook_worker();
