-- Libraries and partners are kept alike in every service (shared/known_parties.py): a library's name and a
-- partner's kind join what was kept already; a name is '' until the registration's event is handled.
ALTER TABLE known_libraries ADD COLUMN name text NOT NULL DEFAULT '';
ALTER TABLE known_partners
    ADD COLUMN kind text,
    ALTER COLUMN name SET DEFAULT '';
