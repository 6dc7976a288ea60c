-- Libraries and partners are kept alike in every service (shared/known_parties.py): a library's name, and
-- the time of a partner's status event, which decides which of two racing statuses holds. A partner whose
-- status came before its registration had no municipality or name; the status's event carries the
-- municipality now, and the registration fills in the rest.
ALTER TABLE known_libraries ADD COLUMN name text NOT NULL DEFAULT '';
UPDATE known_partners SET name = '' WHERE name IS NULL;
UPDATE known_partners SET municipality = '' WHERE municipality IS NULL;
ALTER TABLE known_partners
    ALTER COLUMN name SET DEFAULT '',
    ALTER COLUMN name SET NOT NULL,
    ALTER COLUMN municipality SET NOT NULL,
    ADD COLUMN status_changed_at timestamptz;
