-- Tailored education (maatwerkeducatie, issue 24): a referrer asks a library for a course for a group of its clients
-- (a group, never a person); the library plans a course of its own for it, whose places are reserved for that
-- referrer's referrals first, or declines.
CREATE TABLE education_requests (
    id              uuid PRIMARY KEY,
    library         text NOT NULL,
    municipality    text NOT NULL,
    partner_id      uuid NOT NULL,
    target_group    text NOT NULL,
    skill_area      text NOT NULL,
    clients         integer NOT NULL CHECK (clients > 0),
    preferred_from  date NOT NULL,
    preferred_until date NOT NULL,
    note            text,
    status          text NOT NULL,
    course_id       uuid REFERENCES courses (id),
    reserved_places integer,
    reason          text,
    requested_by    text NOT NULL,
    answered_by     text,
    created_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    version         integer NOT NULL
);
CREATE INDEX education_requests_by_library ON education_requests (library, created_at, id);
CREATE INDEX education_requests_by_partner ON education_requests (partner_id, created_at, id);

-- A course planned for a request keeps places for the referrer's referrals: others wait on the list for them.
ALTER TABLE courses ADD COLUMN reserved_for_partner_id uuid;
ALTER TABLE courses ADD COLUMN reserved_places integer NOT NULL DEFAULT 0;

-- A partner's course hosted at a library (the SeniorWeb model, issue 24): the library's tasks for what it brings
-- (room booked, promotion done, participants recruited), each with when and by whom it was ticked off.
ALTER TABLE courses ADD COLUMN library_tasks jsonb NOT NULL DEFAULT '{}'::jsonb;
