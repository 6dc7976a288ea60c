-- A library's general address (issue 20): its notices reach it while none of its staff chose for that address,
-- as a partner's general address gets the partner's (services/partners/store/notices.py, LIBRARY_RECIPIENTS).
ALTER TABLE libraries ADD COLUMN email text;
