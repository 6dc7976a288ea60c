-- The access log of an anonymised volunteer, applicant or intern (retention or on request) stays
-- PARTNERNET_TRAIL_RETENTION_DAYS after the anonymisation, for accountability, then goes
-- (services/volunteers/commands/retention.py). A trigger queues each anonymised person in the anonymising
-- transaction; the sweep takes the due ones oldest first and deletes their reads through the index by volunteer.
CREATE TABLE erased_volunteer_trails (
    volunteer_id  uuid PRIMARY KEY REFERENCES volunteers (id),
    anonymised_at timestamptz NOT NULL
);
CREATE INDEX erased_volunteer_trails_by_age ON erased_volunteer_trails (anonymised_at);

CREATE FUNCTION volunteer_erased() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO erased_volunteer_trails VALUES (NEW.id, NEW.anonymised_at) ON CONFLICT (volunteer_id) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER volunteer_erased AFTER UPDATE OF anonymised_at ON volunteers
    FOR EACH ROW WHEN (OLD.anonymised_at IS NULL AND NEW.anonymised_at IS NOT NULL)
    EXECUTE FUNCTION volunteer_erased();

INSERT INTO erased_volunteer_trails SELECT id, anonymised_at FROM volunteers WHERE anonymised_at IS NOT NULL;
