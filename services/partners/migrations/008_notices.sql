-- Notices by e-mail (issue 20): who wants which notices, and the mail outbox the SMTP relay sends from.

-- A person's choice, keyed by the subject of their sign-in (staff of a library, a partner's people). The scope
-- is the one their token carried when they chose; notices for that library or partner reach them.
CREATE TABLE notice_preferences (
    subject text PRIMARY KEY,
    role text NOT NULL,
    municipality text,
    library text,
    partner_id uuid,
    email text NOT NULL,
    language text NOT NULL,
    kinds jsonb NOT NULL,  -- the kinds of notice they get (services/partners/domain/notices.py)
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX notice_preferences_by_library ON notice_preferences (library) WHERE library IS NOT NULL;
CREATE INDEX notice_preferences_by_partner ON notice_preferences (partner_id) WHERE partner_id IS NOT NULL;

-- One message to one address, written in the transaction of what caused it, sent by the mail relay.
CREATE TABLE mail_outbox (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    cause text NOT NULL,  -- the event (or delivery) it tells of: one message per cause and address
    recipient text NOT NULL,
    library text,
    partner_id uuid,
    subject text NOT NULL,
    body text NOT NULL,
    language text NOT NULL,
    trace_context jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until timestamptz,
    sent_at timestamptz,
    failed_at timestamptz,
    last_error text,
    UNIQUE (cause, recipient)
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_recent ON mail_outbox (created_at DESC);

CREATE FUNCTION notify_mail_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partnernet_mail_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER mail_outbox_written AFTER INSERT ON mail_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_mail_relay();
