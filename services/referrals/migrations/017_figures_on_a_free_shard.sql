-- The figures' counters (migrations 011 and 013) on a shard no other transaction holds (issue 17). Their triggers
-- took the shard by the transaction's id (txid % 4): at the pipeline's maximum (16 submissions committing at once,
-- all in the same cells) a submit found its counter row locked by another submit about one time in four, and
-- waited for that one's commit, WAL flush and all, before its own (0.23-0.74 submits waiting on average in the
-- sampled runs, the POST's tail). Now a changing transaction takes the first shard whose advisory lock (held until
-- it ends) it gets without waiting: only the holder of a shard's lock writes that shard's rows, so a writer never
-- waits for another's counter row. The first free one from 0: on a quiet platform every change lands on shard 0,
-- so the sums the overview and the statistics make stay over few rows (as many shards as changes ever committed at
-- once, at most 64). Only when 64 transactions commit at once does one share a shard, and wait as before.
-- A transaction holds its shard's lock until it ends; a second trigger of the same transaction may take a lower
-- shard freed meanwhile: both are its own, and a cell's count is the sum over its shards either way.
CREATE FUNCTION referral_figures_shard() RETURNS smallint LANGUAGE plpgsql AS $$
BEGIN
    FOR candidate IN 0 .. 63 LOOP
        -- The two-key form: a key space of its own, apart from the one-key locks of the relays and migrations.
        IF pg_try_advisory_xact_lock(hashtext('referrals.figures'), candidate) THEN
            RETURN candidate;
        END IF;
    END LOOP;
    RETURN (pg_backend_pid() % 64)::smallint;
END;
$$;

CREATE OR REPLACE FUNCTION referral_figures_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    shard smallint := referral_figures_shard();
    old_cell record;
    new_cell record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM referral_count(NEW, 1, shard);
        PERFORM referral_need_count(NEW, 1, shard);
    ELSE
        SELECT OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id, OLD.status,
               OLD.overdue, OLD.overdue_at IS NOT NULL, OLD.outcome, OLD.anonymised_at IS NOT NULL INTO old_cell;
        SELECT NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id, NEW.status,
               NEW.overdue, NEW.overdue_at IS NOT NULL, NEW.outcome, NEW.anonymised_at IS NOT NULL INTO new_cell;
        IF old_cell IS DISTINCT FROM new_cell THEN
            PERFORM referral_count(OLD, -1, shard);
            PERFORM referral_count(NEW, 1, shard);
        END IF;
        IF (OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id, OLD.needs)
           IS DISTINCT FROM
           (NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id, NEW.needs) THEN
            PERFORM referral_need_count(OLD, -1, shard);
            PERFORM referral_need_count(NEW, 1, shard);
        END IF;
    END IF;
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

CREATE OR REPLACE FUNCTION referral_month_figures_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    shard smallint := referral_figures_shard();
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

CREATE OR REPLACE FUNCTION referral_intake_hours_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    shard smallint;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.intake_held_at IS NOT NULL THEN
        IF (OLD.municipality, OLD.library, OLD.referring_partner_id, OLD.receiving_partner_id, OLD.submitted_at,
            OLD.intake_held_at)
           IS NOT DISTINCT FROM
           (NEW.municipality, NEW.library, NEW.referring_partner_id, NEW.receiving_partner_id, NEW.submitted_at,
            NEW.intake_held_at) THEN
            RETURN NULL;
        END IF;
        shard := referral_figures_shard();
        PERFORM referral_intake_hours_count(OLD, -1, shard);
    END IF;
    IF NEW.intake_held_at IS NOT NULL THEN
        shard := coalesce(shard, referral_figures_shard());
        PERFORM referral_intake_hours_count(NEW, 1, shard);
    END IF;
    RETURN NULL;
END;
$$;
