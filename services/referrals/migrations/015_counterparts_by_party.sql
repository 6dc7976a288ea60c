-- Whom a library's staff or a partner may refer to (ListReferralCounterparts, paged by name, issue 20): the
-- candidates are found by the library's active partnerships and the municipality's libraries, not by a scan.
CREATE INDEX IF NOT EXISTS known_partnerships_by_library ON known_partnerships (library, partner_id)
    WHERE activated AND NOT ended;
CREATE INDEX IF NOT EXISTS known_libraries_by_municipality ON known_libraries (municipality, slug);
