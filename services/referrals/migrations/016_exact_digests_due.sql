-- The exact-digest backfill (commands/person.py, ExactDigests) in proportion to what it has to do (issue 25): it
-- read every referral that holds personal data at each process start to find the few without an exact digest (at
-- 500,000 referrals a parallel sequential scan and a hash anti join spilling to disk, 1.45 s with nothing to do).
-- A referral whose exact digest is due is now marked, and the job reads the marked ones through a partial index
-- that is empty when nothing is due. Marked here: those that hold personal data and have none (closed before the
-- digest was kept with the data, or without a birth date, which makes none: the job unmarks them once read).
ALTER TABLE referrals ADD COLUMN exact_digest_due boolean;

UPDATE referrals r SET exact_digest_due = true
 WHERE r.participant_sealed IS NOT NULL
   AND r.anonymised_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM referral_blind_index b WHERE b.referral_id = r.id AND b.kind = 'exact');

CREATE INDEX referrals_exact_digest_due ON referrals (id)
    WHERE exact_digest_due AND participant_sealed IS NOT NULL AND anonymised_at IS NULL;

-- Submission writes the exact digest with the referral; whatever removes it later from a referral that still holds
-- personal data marks the referral, so the job gives it back (an erasure removes both: its referral no longer
-- holds personal data and stays out of the index).
CREATE FUNCTION referral_exact_digest_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE referrals SET exact_digest_due = true
     WHERE id = OLD.referral_id AND participant_sealed IS NOT NULL AND anonymised_at IS NULL;
    RETURN NULL;
END;
$$;

CREATE TRIGGER referral_exact_digest_removed AFTER DELETE ON referral_blind_index
    FOR EACH ROW WHEN (OLD.kind = 'exact') EXECUTE FUNCTION referral_exact_digest_removed();
