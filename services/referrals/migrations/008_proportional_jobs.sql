-- Work in proportion to what changes (issue 25). A referral's near-match digests now go in the transaction that
-- closes it (commands/lifecycle.py), no longer in a sweep that read the whole blind index every minute; those of
-- referrals that closed before this migration go here, once.
DELETE FROM referral_blind_index b
 USING referrals r
 WHERE b.referral_id = r.id
   AND b.kind = 'feature'
   AND (r.status IN ('declined', 'completed', 'withdrawn', 'no_show', 'expired') OR r.anonymised_at IS NOT NULL);

-- The coordinator's list of the municipality's referrals, in the order the list shows (overdue first, newest
-- first), and the coordinator's statistics and overview: an index scan of the municipality, not of every referral.
CREATE INDEX referrals_municipality_worklist ON referrals (municipality, overdue DESC, submitted_at DESC, id DESC);
