-- Who read a volunteer's, applicant's or intern's personal data (issue 14): never the data itself, only who, when
-- and why. Kept after an erasure (it holds no personal data: the volunteer's id is random), like the referrals
-- service's log of participants' data.
CREATE TABLE volunteer_data_reads (
    id                 bigserial PRIMARY KEY,
    volunteer_id       uuid NOT NULL REFERENCES volunteers (id),
    library            text NOT NULL,
    actor              text NOT NULL,
    actor_role         text NOT NULL,
    actor_organisation text,
    purpose            text NOT NULL,   -- view | list | change | export
    at                 timestamptz NOT NULL
);
CREATE INDEX volunteer_data_reads_by_volunteer ON volunteer_data_reads (volunteer_id, id DESC);
CREATE INDEX volunteer_data_reads_by_library ON volunteer_data_reads (library, id DESC);
