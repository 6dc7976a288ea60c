-- Two more read models of the statistics and the overview (issue 25), kept like migration 011's by triggers deferred
-- to the commit of the transaction that changes a referral, on the same four shards, and rebuilt with the rest by
-- rebuild_referral_figures().
--
-- referral_month_counts, referral_month_need_counts: migration 011's counters per Dutch calendar month of
-- submission, for statistics over a period of whole months (a month, a quarter, a year: how municipalities compare
-- years). A period that does not start on the first of a month or end on the last day of one is still counted
-- over its referrals.
--
-- referral_intake_hours: a histogram of the hours from submission until the intake took place, per library and
-- partners, in buckets 2 % wide (bucket b holds hours h with floor(ln(1 + h) / ln(1.02)) = b), each with its count
-- and the exact sum of its hours. The overview's medians come from it: the bucket that holds the middle intake(s),
-- found by counting, and the mean of that bucket's hours as its value. Exact where that bucket holds one value (a
-- few intakes), otherwise within the bucket's width (2 % of 1 + h); the cost is a sum over at most a few hundred
-- buckets per library and partner, however many intakes there are (migration 011's referral_intakes, one row per
-- intake sorted for every median, took 75 ms at 10,000 intakes).
CREATE FUNCTION referral_submission_month(submitted timestamptz) RETURNS date
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT date_trunc('month', submitted AT TIME ZONE 'Europe/Amsterdam')::date
$$;

CREATE TABLE referral_month_counts (
    month                date NOT NULL,
    municipality         text NOT NULL,
    library              text NOT NULL,
    referring_partner_id uuid,
    receiving_partner_id uuid,
    status               text NOT NULL,
    overdue              boolean NOT NULL,
    was_overdue          boolean NOT NULL,
    course_finished      boolean NOT NULL,
    moved_to_work        boolean NOT NULL,
    further_education    boolean NOT NULL,
    anonymised           boolean NOT NULL,
    shard                smallint NOT NULL,
    count                bigint NOT NULL
);
CREATE UNIQUE INDEX referral_month_counts_cell ON referral_month_counts (
    month, municipality, library, referring_partner_id, receiving_partner_id, status, overdue, was_overdue,
    course_finished, moved_to_work, further_education, anonymised, shard
) NULLS NOT DISTINCT;
CREATE INDEX referral_month_counts_by_municipality ON referral_month_counts (municipality, month);
CREATE INDEX referral_month_counts_by_library ON referral_month_counts (library, month);
CREATE INDEX referral_month_counts_by_referring ON referral_month_counts (referring_partner_id, month);
CREATE INDEX referral_month_counts_by_receiving ON referral_month_counts (receiving_partner_id, month);

CREATE TABLE referral_month_need_counts (
    month                date NOT NULL,
    municipality         text NOT NULL,
    library              text NOT NULL,
    referring_partner_id uuid,
    receiving_partner_id uuid,
    area                 text,
    shard                smallint NOT NULL,
    count                bigint NOT NULL
);
CREATE UNIQUE INDEX referral_month_need_counts_cell ON referral_month_need_counts (
    month, municipality, library, referring_partner_id, receiving_partner_id, area, shard
) NULLS NOT DISTINCT;
CREATE INDEX referral_month_need_counts_by_municipality ON referral_month_need_counts (municipality, month);
CREATE INDEX referral_month_need_counts_by_library ON referral_month_need_counts (library, month);
CREATE INDEX referral_month_need_counts_by_referring ON referral_month_need_counts (referring_partner_id, month);
CREATE INDEX referral_month_need_counts_by_receiving ON referral_month_need_counts (receiving_partner_id, month);

CREATE FUNCTION referral_month_count(r referrals, delta bigint, shard smallint) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
    INSERT INTO referral_month_counts AS c
    VALUES (
        referral_submission_month(r.submitted_at), r.municipality, r.library, r.referring_partner_id,
        r.receiving_partner_id, r.status, r.overdue, r.overdue_at IS NOT NULL,
        coalesce((r.outcome ->> 'course_finished')::boolean, false),
        coalesce((r.outcome ->> 'moved_to_work')::boolean, false),
        coalesce((r.outcome ->> 'further_education')::boolean, false),
        r.anonymised_at IS NOT NULL, shard, delta
    )
    ON CONFLICT (month, municipality, library, referring_partner_id, receiving_partner_id, status, overdue,
                 was_overdue, course_finished, moved_to_work, further_education, anonymised, shard)
    DO UPDATE SET count = c.count + excluded.count
$$;

CREATE FUNCTION referral_month_need_count(r referrals, delta bigint, shard smallint) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
    INSERT INTO referral_month_need_counts AS c
    SELECT referral_submission_month(r.submitted_at), r.municipality, r.library, r.referring_partner_id,
           r.receiving_partner_id, need.value ->> 'area', shard, sum(delta)
      FROM jsonb_array_elements(r.needs) AS need
     GROUP BY need.value ->> 'area'
    ON CONFLICT (month, municipality, library, referring_partner_id, receiving_partner_id, area, shard)
    DO UPDATE SET count = c.count + excluded.count
$$;

CREATE FUNCTION referral_month_figures_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    shard smallint := (txid_current() % 4)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM referral_month_count(NEW, 1, shard);
        PERFORM referral_month_need_count(NEW, 1, shard);
        RETURN NULL;
    END IF;
    IF (OLD.submitted_at, OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id,
        OLD.status, OLD.overdue, OLD.overdue_at IS NOT NULL, OLD.outcome, OLD.anonymised_at IS NOT NULL)
       IS DISTINCT FROM
       (NEW.submitted_at, NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id,
        NEW.status, NEW.overdue, NEW.overdue_at IS NOT NULL, NEW.outcome, NEW.anonymised_at IS NOT NULL) THEN
        PERFORM referral_month_count(OLD, -1, shard);
        PERFORM referral_month_count(NEW, 1, shard);
    END IF;
    IF (OLD.submitted_at, OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id,
        OLD.needs)
       IS DISTINCT FROM
       (NEW.submitted_at, NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id,
        NEW.needs) THEN
        PERFORM referral_month_need_count(OLD, -1, shard);
        PERFORM referral_month_need_count(NEW, 1, shard);
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER referral_month_figures AFTER INSERT OR UPDATE ON referrals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION referral_month_figures_changed();

CREATE FUNCTION referral_hours_bucket(hours double precision) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT floor(ln(1.0 + hours) / ln(1.02))::integer
$$;

CREATE TABLE referral_intake_hours (
    municipality         text NOT NULL,
    library              text NOT NULL,
    referring_partner_id uuid,
    receiving_partner_id uuid,
    bucket               integer NOT NULL,
    shard                smallint NOT NULL,
    count                bigint NOT NULL,
    hours                numeric NOT NULL  -- the sum of the bucket's hours, exact, so a rebuild adds up the same
);
CREATE UNIQUE INDEX referral_intake_hours_cell ON referral_intake_hours (
    municipality, library, referring_partner_id, receiving_partner_id, bucket, shard
) NULLS NOT DISTINCT;
CREATE INDEX referral_intake_hours_by_municipality ON referral_intake_hours (municipality, library);
CREATE INDEX referral_intake_hours_by_library ON referral_intake_hours (library);

CREATE FUNCTION referral_intake_hours_count(r referrals, delta bigint, shard smallint) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
    INSERT INTO referral_intake_hours AS c
    SELECT r.municipality, r.library, r.referring_partner_id, r.receiving_partner_id, referral_hours_bucket(h),
           shard, delta, delta * h::numeric
      FROM (SELECT referral_hours_to_intake(r.intake_held_at, r.submitted_at) AS h) AS intake
    ON CONFLICT (municipality, library, referring_partner_id, receiving_partner_id, bucket, shard)
    DO UPDATE SET count = c.count + excluded.count, hours = c.hours + excluded.hours
$$;

CREATE FUNCTION referral_intake_hours_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    shard smallint := (txid_current() % 4)::smallint;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.intake_held_at IS NOT NULL THEN
        IF (OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id, OLD.submitted_at,
            OLD.intake_held_at)
           IS NOT DISTINCT FROM
           (NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id, NEW.submitted_at,
            NEW.intake_held_at) THEN
            RETURN NULL;
        END IF;
        PERFORM referral_intake_hours_count(OLD, -1, shard);
    END IF;
    IF NEW.intake_held_at IS NOT NULL THEN
        PERFORM referral_intake_hours_count(NEW, 1, shard);
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER referral_intake_hours AFTER INSERT OR UPDATE ON referrals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION referral_intake_hours_changed();

-- As in 011, and the month counters and the intake histogram beside them.
CREATE OR REPLACE FUNCTION rebuild_referral_figures() RETURNS void LANGUAGE sql SET search_path FROM CURRENT AS $$
    -- TRUNCATE waits for writers whose counters are not committed yet and holds the rest until the rebuild
    -- commits; a writer that commits after it adds its change to the rebuilt figures, which did not see it.
    TRUNCATE referral_counts, referral_need_counts, referral_intakes, referral_month_counts,
             referral_month_need_counts, referral_intake_hours;
    INSERT INTO referral_counts
    SELECT municipality, library, referring_partner_id, receiving_partner_id, status, overdue,
           overdue_at IS NOT NULL,
           coalesce((outcome ->> 'course_finished')::boolean, false),
           coalesce((outcome ->> 'moved_to_work')::boolean, false),
           coalesce((outcome ->> 'further_education')::boolean, false),
           anonymised_at IS NOT NULL, 0, count(*)
      FROM referrals
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
    INSERT INTO referral_need_counts
    SELECT municipality, library, referring_partner_id, receiving_partner_id, need.value ->> 'area', 0, count(*)
      FROM referrals, jsonb_array_elements(needs) AS need
     GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO referral_intakes
    SELECT id, municipality, library, referring_partner_id, receiving_partner_id,
           referral_hours_to_intake(intake_held_at, submitted_at)
      FROM referrals
     WHERE intake_held_at IS NOT NULL;
    INSERT INTO referral_month_counts
    SELECT referral_submission_month(submitted_at), municipality, library, referring_partner_id,
           receiving_partner_id, status, overdue, overdue_at IS NOT NULL,
           coalesce((outcome ->> 'course_finished')::boolean, false),
           coalesce((outcome ->> 'moved_to_work')::boolean, false),
           coalesce((outcome ->> 'further_education')::boolean, false),
           anonymised_at IS NOT NULL, 0, count(*)
      FROM referrals
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12;
    INSERT INTO referral_month_need_counts
    SELECT referral_submission_month(submitted_at), municipality, library, referring_partner_id,
           receiving_partner_id, need.value ->> 'area', 0, count(*)
      FROM referrals, jsonb_array_elements(needs) AS need
     GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO referral_intake_hours
    SELECT municipality, library, referring_partner_id, receiving_partner_id, referral_hours_bucket(h), 0, count(*),
           sum(h::numeric)
      FROM (SELECT municipality, library, referring_partner_id, receiving_partner_id,
                   referral_hours_to_intake(intake_held_at, submitted_at) AS h
              FROM referrals WHERE intake_held_at IS NOT NULL) AS intakes
     GROUP BY 1, 2, 3, 4, 5;
$$;

SELECT rebuild_referral_figures();
