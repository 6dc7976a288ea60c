-- The figures' counters folded back to shard 0 while the service runs (issue 17). Since migration 017 a burst of
-- submissions spreads a cell over up to 64 shard rows, and the overview's and the statistics' sums read them all;
-- only rebuild_referral_figures() brought them back to one, by hand. The referrals service's periodic sweep
-- (commands/figures.py) calls this per shard above 0: it moves the shard's counts onto shard 0's rows, in one
-- transaction, so a reader (who sums the shards) sees the figures before or after the move, both exact.
-- It takes the two shards' advisory locks with the try-variant, as the triggers do (migration 017): a shard a
-- writer holds is skipped and folded by a later sweep, and while the fold holds them the writers take another
-- shard, so no writer waits for the fold, nor the fold for a writer. Only the holder of a shard's lock writes its
-- rows (but for 017's fallback when all 64 are held: then a writer may wait for the fold's short transaction).
-- Rows that fell to 0 move to shard 0 as well: the figures read the same, the cell keeps one row.
-- Returns false when a lock was busy (skipped), true when the shard was folded (or was empty).
CREATE FUNCTION fold_referral_figures(from_shard smallint) RETURNS boolean
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
    WITH moved AS (DELETE FROM referral_counts WHERE shard = from_shard RETURNING *)
    INSERT INTO referral_counts AS c
    SELECT municipality, library, referring_partner_id, receiving_partner_id, status, overdue, was_overdue,
           course_finished, moved_to_work, further_education, anonymised, 0, count
      FROM moved
    ON CONFLICT (municipality, library, referring_partner_id, receiving_partner_id, status, overdue, was_overdue,
                 course_finished, moved_to_work, further_education, anonymised, shard)
    DO UPDATE SET count = c.count + excluded.count;

    WITH moved AS (DELETE FROM referral_need_counts WHERE shard = from_shard RETURNING *)
    INSERT INTO referral_need_counts AS c
    SELECT municipality, library, referring_partner_id, receiving_partner_id, area, 0, count FROM moved
    ON CONFLICT (municipality, library, referring_partner_id, receiving_partner_id, area, shard)
    DO UPDATE SET count = c.count + excluded.count;

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
