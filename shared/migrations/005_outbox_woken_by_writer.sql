-- A writer that wakes the relay itself after its commit (shared/unit_of_work.py `outbox_written`) says so for its
-- transaction (set_config('partnernet.outbox_woken', 'on', true)), and the trigger then sends no NOTIFY. A
-- transaction that notifies takes PostgreSQL's one notification lock before its commit record and holds it until
-- the commit's WAL flush is done, so every notifying commit of the server waited for the one before it, flush and
-- all (issue 17's sixth round: at 16 connections the submissions queued on that lock, and 16 pgbench clients
-- inserting a row each managed ~650-950 commits/s with the NOTIFY in the transaction, ~3,700-6,600 without).
CREATE OR REPLACE FUNCTION notify_outbox_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('partnernet.outbox_woken', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify('partnernet_outbox_' || TG_TABLE_SCHEMA, '');
    END IF;
    RETURN NULL;
END;
$$;
