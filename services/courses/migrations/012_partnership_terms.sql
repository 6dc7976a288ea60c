-- Who does what on a partner's course in a library comes from their partnership's contributions (issue 24): the
-- courses service keeps what each side brings in (NULL until an event announces it), ordered by the partnership's
-- version, from partnership.activated and partnership.changed (shared/known_parties.py).
ALTER TABLE known_partnerships ADD COLUMN library_contributions jsonb;
ALTER TABLE known_partnerships ADD COLUMN partner_contributions jsonb;
ALTER TABLE known_partnerships ADD COLUMN terms_version integer NOT NULL DEFAULT 0;
