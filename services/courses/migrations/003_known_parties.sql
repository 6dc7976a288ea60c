-- Libraries and partners are kept alike in every service (shared/known_parties.py). A partner's status may
-- now arrive before its registration (it is no longer lost then): name and kind wait for the registration,
-- and the time of a status's event decides which of two racing statuses holds.
ALTER TABLE known_libraries ALTER COLUMN name SET DEFAULT '';
ALTER TABLE known_partners
    ALTER COLUMN name SET DEFAULT '',
    ALTER COLUMN kind DROP NOT NULL,
    ADD COLUMN status_changed_at timestamptz;
