-- The relay is woken when rows are written: NOTIFY from a statement trigger is delivered at commit, and not
-- at all on rollback, and the writer needs no round trip of its own for it. The channel names the schema,
-- which is the service (shared.outbox.notify_channel).
CREATE FUNCTION notify_outbox_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partnernet_outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_written AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox_relay();
