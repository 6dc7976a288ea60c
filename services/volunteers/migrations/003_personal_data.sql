-- Volunteers' and applicants' personal data sealed at rest (issue 14). Name, e-mail, phone and motivation are
-- one Fernet-sealed blob (PARTNERNET_ENCRYPTION_KEY, as in the referrals service), a school supervisor's
-- contact details another; keyed digests (PARTNERNET_BLIND_INDEX_KEY) find a person by e-mail or by a part
-- of the name without the text in clear. Rows written in clear before this migration keep their text in the
-- old columns until the privacy sweep seals it (within a minute of the service starting) and empties them.
ALTER TABLE volunteers
    ALTER COLUMN name DROP NOT NULL,
    ADD COLUMN person_sealed   bytea,          -- NULL once anonymised
    ADD COLUMN email_digest    bytea,          -- keyed digest of the normalised e-mail address
    ADD COLUMN left_service_at timestamptz,    -- when they withdrew, were rejected, went inactive or ended
    ADD COLUMN anonymised_at   timestamptz;
UPDATE volunteers SET left_service_at = updated_at WHERE status IN ('withdrawn', 'rejected', 'inactive', 'ended');
CREATE INDEX volunteers_by_email_digest ON volunteers (library, email_digest) WHERE email_digest IS NOT NULL;
CREATE INDEX volunteers_in_clear ON volunteers (id) WHERE name IS NOT NULL;
CREATE INDEX volunteers_awaiting_erasure ON volunteers (library, left_service_at)
    WHERE anonymised_at IS NULL AND left_service_at IS NOT NULL;

ALTER TABLE internships
    ALTER COLUMN supervisor DROP NOT NULL,
    ADD COLUMN supervisor_sealed bytea;

-- One row per part of a volunteer's name: staff search by name through these.
CREATE TABLE volunteer_name_digests (
    volunteer_id uuid NOT NULL REFERENCES volunteers (id),
    digest       bytea NOT NULL,
    PRIMARY KEY (volunteer_id, digest)
);
CREATE INDEX volunteer_name_digests_by_digest ON volunteer_name_digests (digest);

-- How long a library keeps the personal data of people who left (days after leaving); no row: the defaults.
CREATE TABLE volunteer_policies (
    library                  text PRIMARY KEY,
    applicant_retention_days integer NOT NULL,  -- applicants who never served: withdrawn or rejected
    volunteer_retention_days integer NOT NULL,  -- volunteers and interns who served, once out of service
    version                  integer NOT NULL,
    updated_at               timestamptz NOT NULL
);
