-- The annual report's intakes (issue 25): a municipality's referrals of one year whose intake took place, found by
-- the municipality and the submission time (the report's counts come from migration 013's counters per month).
CREATE INDEX IF NOT EXISTS referrals_intakes_by_municipality ON referrals (municipality, submitted_at)
    WHERE intake_held_at IS NOT NULL;
