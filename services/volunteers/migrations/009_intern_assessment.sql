-- Schools follow their interns (issue 24): the school confirms the internship's period (who and when), and the
-- library assesses the intern at the end of it. The assessment is free text about a person: sealed like the
-- supervisor's details (PARTNERNET_ENCRYPTION_KEY), erased with the person.
ALTER TABLE internships ADD COLUMN confirmed_at timestamptz;
ALTER TABLE internships ADD COLUMN confirmed_by text;
ALTER TABLE internships ADD COLUMN assessment_sealed bytea;
ALTER TABLE internships ADD COLUMN assessed_at timestamptz;
ALTER TABLE internships ADD COLUMN assessed_by text;
