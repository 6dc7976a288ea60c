-- When the warm handover took place: outcomes follow only after it, and the overview measures time to it.
ALTER TABLE referrals ADD COLUMN intake_held_at timestamptz;
