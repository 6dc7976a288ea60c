-- One btree fewer written by every submission (issue 17). `referrals_by_library` (library, status, submitted_at)
-- answered nothing `referrals_worklist` (library, overdue DESC, submitted_at DESC, id DESC) does not: every query
-- of the referrals that names a library (the list and its filters, the statistics over a period, the person's
-- look-ups, the deadline sweeps narrowed to a library) filters the status, if at all, after the library, and none
-- orders by status; the worklist starts with the library too, so its plans read the same rows.
-- tests/services/referrals/test_query_plans.py holds the user-facing queries to their indexes at volume.
DROP INDEX IF EXISTS referrals_by_library;
