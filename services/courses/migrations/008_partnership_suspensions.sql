-- The courses service follows a partnership's suspension too (shared/known_parties.py): a partner offers no
-- course at a library while its partnership with it is suspended.
ALTER TABLE known_partnerships ADD COLUMN changed_at timestamptz;
ALTER TABLE known_partnerships ADD COLUMN ended_at timestamptz;
