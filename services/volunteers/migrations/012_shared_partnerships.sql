-- One projection of partnerships (issue 21): this service keeps its partnerships through the piece the courses
-- service uses (shared/known_parties.py, KnownPartnerships with terms), so activation and suspension are ordered by
-- the time of their events (of the two, the later wins whichever consumer handles it last), the end is dated, and the
-- roles follow the newest version of the terms as the contributions do. Contributions kept so far stay; from now on
-- NULL means that no event has announced them yet (an empty list and NULL both bring nothing).
ALTER TABLE known_partnerships ADD COLUMN changed_at timestamptz;
ALTER TABLE known_partnerships ADD COLUMN ended_at timestamptz;
ALTER TABLE known_partnerships ADD COLUMN library_contributions jsonb;
ALTER TABLE known_partnerships ALTER COLUMN partner_contributions DROP NOT NULL;
ALTER TABLE known_partnerships ALTER COLUMN partner_contributions DROP DEFAULT;
