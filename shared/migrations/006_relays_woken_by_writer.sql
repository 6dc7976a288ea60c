-- One way for any relay's trigger to leave its NOTIFY to the writer (shared/relay.py RELAYS_WOKEN): the writer
-- names the channels it wakes itself after its commit in 'partnernet.relays_woken' for its transaction, and a
-- trigger notifies unless its own channel is named. Migration 005's flag was for the outbox alone; the partners'
-- feed, webhook and mail triggers (partners' migration 014) now look at the same setting, so a consumer's batch that
-- writes feed entries and deliveries holds PostgreSQL's notification lock across no commit flush either.
CREATE OR REPLACE FUNCTION notify_outbox_relay() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    channel text := 'partnernet_outbox_' || TG_TABLE_SCHEMA;
BEGIN
    IF strpos(coalesce(current_setting('partnernet.relays_woken', true), ''), ' ' || channel || ' ') = 0 THEN
        PERFORM pg_notify(channel, '');
    END IF;
    RETURN NULL;
END;
$$;
