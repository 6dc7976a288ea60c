-- The trail a referral leaves once its participant's data is erased (retention or on request): its history (steps,
-- dates, codes; the notes went with the data) and the access log of reads of the data. Both stay
-- PARTNERNET_TRAIL_RETENTION_DAYS after the erasure, for accountability (a complaint about a read, an incident
-- investigation), then go with the sweep in services/referrals/commands/retention.py. The referral itself stays,
-- nameless, for the figures.
--
-- erased_trails queues each erased referral with the moment of its erasure, filled by a trigger in the erasing
-- transaction: the sweep takes the due ones oldest first through the index and deletes their rows through the
-- indexes by referral, so its cost follows what it deletes, never the size of the history or the log.
CREATE TABLE erased_trails (
    referral_id   uuid PRIMARY KEY REFERENCES referrals (id),
    anonymised_at timestamptz NOT NULL
);
CREATE INDEX erased_trails_by_age ON erased_trails (anonymised_at);

CREATE FUNCTION referral_erased() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO erased_trails VALUES (NEW.id, NEW.anonymised_at) ON CONFLICT (referral_id) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER referral_erased AFTER UPDATE OF anonymised_at ON referrals
    FOR EACH ROW WHEN (OLD.anonymised_at IS NULL AND NEW.anonymised_at IS NOT NULL)
    EXECUTE FUNCTION referral_erased();

INSERT INTO erased_trails SELECT id, anonymised_at FROM referrals WHERE anonymised_at IS NOT NULL;
