-- A suspended partnership is not active (issue 14): no new referrals under it, and its partner sees pseudonyms
-- only until it is resumed. The times say since when a partnership stopped (the participant's page says it).
ALTER TABLE known_partnerships ADD COLUMN changed_at timestamptz;
ALTER TABLE known_partnerships ADD COLUMN ended_at timestamptz;
