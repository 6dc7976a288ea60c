-- The all-time figures served from the counters per month of submission (issue 17). A submission wrote four
-- counters at its commit (migrations 011 and 013: all-time and per month, each by status and by need), each through
-- a call of a SQL function that PostgreSQL parsed and planned again at every call, from two deferred triggers and a
-- third that only looked at the intake. The month counters hold everything the all-time ones did, a month apart:
-- the overview and the statistics now sum them over every month (store/figures.py), and the all-time counters go.
-- One deferred trigger keeps the month counters and the intakes, its upserts written in it (PL/pgSQL keeps their
-- plans for the session) on the same free shard as before (migration 017): a submission makes two upserts.
-- The month counters already count every referral (kept since 013, rebuilt with the rest): nothing to convert.
CREATE OR REPLACE FUNCTION referral_figures_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    on_shard smallint;  -- taken when a counter is written: not `shard`, a column of the counters
    counted boolean := TG_OP = 'UPDATE' AND (
        OLD.submitted_at, OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id,
        OLD.status, OLD.overdue, OLD.overdue_at IS NOT NULL, OLD.outcome, OLD.anonymised_at IS NOT NULL)
        IS DISTINCT FROM
        (NEW.submitted_at, NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id,
         NEW.status, NEW.overdue, NEW.overdue_at IS NOT NULL, NEW.outcome, NEW.anonymised_at IS NOT NULL);
    needs_counted boolean := TG_OP = 'UPDATE' AND (
        OLD.submitted_at, OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id,
        OLD.needs)
        IS DISTINCT FROM
        (NEW.submitted_at, NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id,
         NEW.needs);
    -- An intake held before and after with nothing it is counted by changed: the histogram stays as it is.
    intake_unchanged boolean := TG_OP = 'UPDATE' AND OLD.intake_held_at IS NOT NULL AND (
        OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id, OLD.submitted_at,
        OLD.intake_held_at)
        IS NOT DISTINCT FROM
        (NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id, NEW.submitted_at,
         NEW.intake_held_at);
    r referrals;
    delta bigint;
BEGIN
    -- An update takes away the old row's cells and adds the new row's; an insert only adds. Each pass is one
    -- row (`r`) with its sign (`delta`), in the order the separate triggers applied them.
    FOR pass IN (CASE WHEN TG_OP = 'UPDATE' THEN 1 ELSE 2 END) .. 2 LOOP
        IF pass = 1 THEN
            r := OLD;
            delta := -1;
        ELSE
            r := NEW;
            delta := 1;
        END IF;
        IF TG_OP = 'INSERT' OR counted THEN
            on_shard := coalesce(on_shard, referral_figures_shard());
            INSERT INTO referral_month_counts AS c
            VALUES (
                referral_submission_month(r.submitted_at), r.municipality, r.library, r.referring_partner_id,
                r.receiving_partner_id, r.status, r.overdue, r.overdue_at IS NOT NULL,
                coalesce((r.outcome ->> 'course_finished')::boolean, false),
                coalesce((r.outcome ->> 'moved_to_work')::boolean, false),
                coalesce((r.outcome ->> 'further_education')::boolean, false),
                r.anonymised_at IS NOT NULL, on_shard, delta
            )
            ON CONFLICT (month, municipality, library, referring_partner_id, receiving_partner_id, status, overdue,
                         was_overdue, course_finished, moved_to_work, further_education, anonymised, shard)
            DO UPDATE SET count = c.count + excluded.count;
        END IF;
        IF TG_OP = 'INSERT' OR needs_counted THEN
            on_shard := coalesce(on_shard, referral_figures_shard());
            INSERT INTO referral_month_need_counts AS c
            SELECT referral_submission_month(r.submitted_at), r.municipality, r.library, r.referring_partner_id,
                   r.receiving_partner_id, need.value ->> 'area', on_shard, sum(delta)
              FROM jsonb_array_elements(r.needs) AS need
             GROUP BY need.value ->> 'area'
            ON CONFLICT (month, municipality, library, referring_partner_id, receiving_partner_id, area, shard)
            DO UPDATE SET count = c.count + excluded.count;
        END IF;
        IF r.intake_held_at IS NOT NULL AND NOT intake_unchanged THEN
            on_shard := coalesce(on_shard, referral_figures_shard());
            PERFORM referral_intake_hours_count(r, delta, on_shard);
        END IF;
    END LOOP;
    IF NEW.intake_held_at IS NOT NULL THEN
        INSERT INTO referral_intakes AS i
        VALUES (NEW.id, NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id,
                referral_hours_to_intake(NEW.intake_held_at, NEW.submitted_at))
        ON CONFLICT (referral_id) DO UPDATE
            SET municipality = excluded.municipality, library = excluded.library,
                referring_partner_id = excluded.referring_partner_id,
                receiving_partner_id = excluded.receiving_partner_id, hours = excluded.hours
            WHERE (i.municipality, i.library, i.referring_partner_id, i.receiving_partner_id, i.hours)
                  IS DISTINCT FROM (excluded.municipality, excluded.library, excluded.referring_partner_id,
                                    excluded.receiving_partner_id, excluded.hours);
    ELSIF TG_OP = 'UPDATE' AND OLD.intake_held_at IS NOT NULL THEN
        DELETE FROM referral_intakes WHERE referral_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER referral_month_figures ON referrals;
DROP TRIGGER referral_intake_hours ON referrals;
DROP FUNCTION referral_month_figures_changed();
DROP FUNCTION referral_intake_hours_changed();
DROP FUNCTION referral_count(referrals, bigint, smallint);
DROP FUNCTION referral_need_count(referrals, bigint, smallint);
DROP FUNCTION referral_month_count(referrals, bigint, smallint);
DROP FUNCTION referral_month_need_count(referrals, bigint, smallint);

-- As in 013, without the all-time counters.
CREATE OR REPLACE FUNCTION rebuild_referral_figures() RETURNS void LANGUAGE sql SET search_path FROM CURRENT AS $$
    -- TRUNCATE waits for writers whose counters are not committed yet and holds the rest until the rebuild
    -- commits; a writer that commits after it adds its change to the rebuilt figures, which did not see it.
    TRUNCATE referral_intakes, referral_month_counts, referral_month_need_counts, referral_intake_hours;
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

-- As in 019, without the all-time counters.
CREATE OR REPLACE FUNCTION fold_referral_figures(from_shard smallint) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF from_shard <= 0 THEN
        RAISE EXCEPTION 'shard 0 is where the counts are folded to, not from';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('referrals.figures'), 0)
       OR NOT pg_try_advisory_xact_lock(hashtext('referrals.figures'), from_shard) THEN
        RETURN false;
    END IF;
    -- Each statement sees what the shard's earlier holders committed: they released its lock only by ending.
    WITH moved AS (DELETE FROM referral_month_counts WHERE shard = from_shard RETURNING *)
    INSERT INTO referral_month_counts AS c
    SELECT month, municipality, library, referring_partner_id, receiving_partner_id, status, overdue, was_overdue,
           course_finished, moved_to_work, further_education, anonymised, 0, count
      FROM moved
    ON CONFLICT (month, municipality, library, referring_partner_id, receiving_partner_id, status, overdue,
                 was_overdue, course_finished, moved_to_work, further_education, anonymised, shard)
    DO UPDATE SET count = c.count + excluded.count;

    WITH moved AS (DELETE FROM referral_month_need_counts WHERE shard = from_shard RETURNING *)
    INSERT INTO referral_month_need_counts AS c
    SELECT month, municipality, library, referring_partner_id, receiving_partner_id, area, 0, count FROM moved
    ON CONFLICT (month, municipality, library, referring_partner_id, receiving_partner_id, area, shard)
    DO UPDATE SET count = c.count + excluded.count;

    WITH moved AS (DELETE FROM referral_intake_hours WHERE shard = from_shard RETURNING *)
    INSERT INTO referral_intake_hours AS c
    SELECT municipality, library, referring_partner_id, receiving_partner_id, bucket, 0, count, hours FROM moved
    ON CONFLICT (municipality, library, referring_partner_id, receiving_partner_id, bucket, shard)
    DO UPDATE SET count = c.count + excluded.count, hours = c.hours + excluded.hours;
    RETURN true;
END;
$$;

DROP TABLE referral_counts, referral_need_counts;
