-- Residents who sign up for a course themselves on the public calendar (issue 22). Why the courses service holds
-- them: a registration is an enrolment (a place or the waiting list, under the session's row lock), so it lives
-- beside the enrolments; the resident's name and address are sealed here like the volunteers service seals its
-- people (PARTNERNET_ENCRYPTION_KEY), and events carry only the enrolment's made-up pseudonym.
CREATE TABLE resident_registrations (
    id               uuid PRIMARY KEY,
    session_id       uuid NOT NULL REFERENCES sessions (id),
    course_id        uuid NOT NULL REFERENCES courses (id),
    municipality     text NOT NULL,
    language         text NOT NULL,  -- nl or en: the messages and pages they get
    status           text NOT NULL,  -- unconfirmed, confirmed, cancelled, expired (services/courses/domain/residents.py)
    sealed           bytea,          -- name, e-mail address, phone, language; NULL once erased
    email_digest     bytea,          -- keyed digest of the normalised address: one sign-up per address and session
    enrolment_id     uuid REFERENCES enrolments (id),
    offer_expires_at timestamptz,    -- a place from the waiting list held for the resident until then
    cancel_reason    text,           -- by_resident, offer_lapsed, not_confirmed
    created_at       timestamptz NOT NULL,
    confirmed_at     timestamptz,
    closed_at        timestamptz,
    erased_at        timestamptz,
    version          integer NOT NULL
);
CREATE INDEX resident_registrations_by_address ON resident_registrations (email_digest, created_at)
    WHERE email_digest IS NOT NULL;
CREATE INDEX resident_registrations_by_enrolment ON resident_registrations (enrolment_id)
    WHERE enrolment_id IS NOT NULL;
CREATE INDEX resident_registrations_due ON resident_registrations (status, created_at);

-- A message to a resident: only what to tell them and about which registration. The address, the name and the
-- link are taken from the sealed registration when the message is sent, and the row goes once it is sent.
CREATE TABLE resident_mail (
    id              uuid PRIMARY KEY,
    registration_id uuid NOT NULL REFERENCES resident_registrations (id),
    kind            text NOT NULL,  -- confirm, place, waiting_list, offer, cancelled
    trace_context   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    failed_at       timestamptz,
    last_error      text
);
CREATE INDEX resident_mail_due ON resident_mail (next_attempt_at) WHERE failed_at IS NULL;

CREATE FUNCTION notify_resident_mail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partnernet_resident_mail_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER resident_mail_written AFTER INSERT ON resident_mail
    FOR EACH STATEMENT EXECUTE FUNCTION notify_resident_mail();
