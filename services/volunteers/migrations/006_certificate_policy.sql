-- Certificates of conduct (issue 18): a library's volunteers policy also says how long a certificate counts after
-- its issue date when the receipt names no end, and how recent it must be when requested (NULL: the defaults, 36
-- and 3 months). A certificate received without an end before this counted for ever: it now counts for the
-- default validity from its issue date, as a new one would.
ALTER TABLE volunteer_policies
    ADD COLUMN certificate_validity_months integer,
    ADD COLUMN certificate_max_age_months  integer;
UPDATE certificates
   SET valid_until = (issued_on + interval '36 months' - interval '1 day')::date
 WHERE issued_on IS NOT NULL AND valid_until IS NULL;
