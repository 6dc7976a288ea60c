-- Every read of a resident's name and address (issue 22), like the referrals service's personal_data_reads: those
-- who run the course reading their list of residents, the resident's own export; and the erasure by the library's
-- staff. Who, in which role and organisation, why, when; the resident by their enrolment's made-up pseudonym, never
-- by name. The log stays after the erasure: it names nobody.
CREATE TABLE resident_data_reads (
    id                    bigserial PRIMARY KEY,
    registration_id       uuid NOT NULL REFERENCES resident_registrations (id),
    course_id             uuid NOT NULL,
    library               text,
    participant_pseudonym text,
    actor                 text NOT NULL,
    actor_role            text NOT NULL,
    actor_organisation    text,
    purpose               text NOT NULL,  -- view, export, erase
    at                    timestamptz NOT NULL
);
CREATE INDEX resident_data_reads_by_registration ON resident_data_reads (registration_id, id);
