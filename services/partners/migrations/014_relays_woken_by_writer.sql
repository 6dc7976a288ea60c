-- The feed publisher, the webhook worker and the mail relay are woken by their writer after its commit when it
-- names their channel in 'partnernet.relays_woken' (shared/relay.py RELAYS_WOKEN, kernel migration 006): then
-- these triggers send no NOTIFY, which would hold PostgreSQL's one notification lock across the commit's WAL flush
-- and queue every notifying commit of the server behind it (issue 17's sixth round). Anyone else's write (an
-- operator's replay, a test's insert) notifies as before.
CREATE OR REPLACE FUNCTION notify_feed_publisher() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    channel text := 'partnernet_feeds_' || TG_TABLE_SCHEMA;
BEGIN
    IF strpos(coalesce(current_setting('partnernet.relays_woken', true), ''), ' ' || channel || ' ') = 0 THEN
        PERFORM pg_notify(channel, '');
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION notify_webhook_worker() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    channel text := 'partnernet_webhooks_' || TG_TABLE_SCHEMA;
BEGIN
    IF strpos(coalesce(current_setting('partnernet.relays_woken', true), ''), ' ' || channel || ' ') = 0 THEN
        PERFORM pg_notify(channel, '');
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION notify_mail_relay() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    channel text := 'partnernet_mail_' || TG_TABLE_SCHEMA;
BEGIN
    IF strpos(coalesce(current_setting('partnernet.relays_woken', true), ''), ' ' || channel || ' ') = 0 THEN
        PERFORM pg_notify(channel, '');
    END IF;
    RETURN NULL;
END;
$$;
