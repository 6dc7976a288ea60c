-- The partners' acts in the overview and the annual report (issue 25): a municipality's training sessions of a
-- period, and the hours worked in a period in a library or a municipality, each found by its scope and date.
CREATE INDEX IF NOT EXISTS training_sessions_by_municipality ON training_sessions (municipality, starts_at, id);
CREATE INDEX IF NOT EXISTS hours_by_library_day ON hours (library, worked_on) WHERE removed_at IS NULL;
CREATE INDEX IF NOT EXISTS hours_by_municipality_day ON hours (municipality, worked_on) WHERE removed_at IS NULL;
