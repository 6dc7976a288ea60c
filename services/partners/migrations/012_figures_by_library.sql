-- The overview's partner figures read a library's partnerships in any status (issue 25): the partial index of the
-- living ones (partnerships_one_living) does not serve the ended ones a narrowed overview's partners come from.
CREATE INDEX IF NOT EXISTS partnerships_by_library ON partnerships (library, status);
