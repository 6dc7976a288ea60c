-- Read models of the statistics and the overview (issue 25): counters kept up to date by the change itself, so
-- the figures cost a sum over a few hundred counters instead of a scan of every referral in scope.
--
-- referral_counts: how many referrals have each combination of what the figures count by (parties, status, the
-- flags). A trigger adds the new row's combination and takes away the old one's, deferred to the commit of the
-- transaction that changed the referral (so a counter row is held only while that transaction commits), on one
-- of 4 shards chosen by the transaction (so writers of the same library seldom wait for each other). A
-- combination's count is the sum over its shards; one that fell to 0 is left as 0 and never shown.
-- referral_need_counts: the same for each need of a referral (by area). referral_intakes: one row per referral
-- whose intake took place, with the hours from submission until then (the medians need every value).
-- rebuild_referral_figures() computes all three again from the referrals (`partnernet rebuild-figures`).
-- The functions keep this schema as their search path: a trigger fires for writers on any search path.
CREATE TABLE referral_counts (
    municipality         text NOT NULL,
    library              text NOT NULL,
    referring_partner_id uuid,
    receiving_partner_id uuid,
    status               text NOT NULL,
    overdue              boolean NOT NULL,
    was_overdue          boolean NOT NULL,  -- overdue_at is set: answered late unless still submitted
    course_finished      boolean NOT NULL,
    moved_to_work        boolean NOT NULL,
    further_education    boolean NOT NULL,
    anonymised           boolean NOT NULL,
    shard                smallint NOT NULL,
    count                bigint NOT NULL
);
CREATE UNIQUE INDEX referral_counts_cell ON referral_counts (
    municipality, library, referring_partner_id, receiving_partner_id, status, overdue, was_overdue,
    course_finished, moved_to_work, further_education, anonymised, shard
) NULLS NOT DISTINCT;
CREATE INDEX referral_counts_by_library ON referral_counts (library);
CREATE INDEX referral_counts_by_referring ON referral_counts (referring_partner_id);
CREATE INDEX referral_counts_by_receiving ON referral_counts (receiving_partner_id);

CREATE TABLE referral_need_counts (
    municipality         text NOT NULL,
    library              text NOT NULL,
    referring_partner_id uuid,
    receiving_partner_id uuid,
    area                 text,
    shard                smallint NOT NULL,
    count                bigint NOT NULL
);
CREATE UNIQUE INDEX referral_need_counts_cell ON referral_need_counts (
    municipality, library, referring_partner_id, receiving_partner_id, area, shard
) NULLS NOT DISTINCT;
CREATE INDEX referral_need_counts_by_library ON referral_need_counts (library);

CREATE TABLE referral_intakes (
    referral_id          uuid PRIMARY KEY REFERENCES referrals (id),
    municipality         text NOT NULL,
    library              text NOT NULL,
    referring_partner_id uuid,
    receiving_partner_id uuid,
    hours                double precision NOT NULL
);
CREATE INDEX referral_intakes_by_municipality ON referral_intakes (municipality, library);
CREATE INDEX referral_intakes_by_library ON referral_intakes (library);
CREATE INDEX referral_intakes_by_referring ON referral_intakes (referring_partner_id);
CREATE INDEX referral_intakes_by_receiving ON referral_intakes (receiving_partner_id);

CREATE FUNCTION referral_hours_to_intake(held timestamptz, submitted timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE SET search_path FROM CURRENT AS $$
    -- As the figures always counted it: until the intake took place, and 0 for one registered after it.
    SELECT greatest(extract(epoch FROM held - submitted) / 3600.0, 0.0)::double precision
$$;

CREATE FUNCTION referral_count(r referrals, delta bigint, shard smallint) RETURNS void LANGUAGE sql SET search_path FROM CURRENT AS $$
    INSERT INTO referral_counts AS c
    VALUES (
        r.municipality, r.library, r.referring_partner_id, r.receiving_partner_id, r.status, r.overdue,
        r.overdue_at IS NOT NULL,
        coalesce((r.outcome ->> 'course_finished')::boolean, false),
        coalesce((r.outcome ->> 'moved_to_work')::boolean, false),
        coalesce((r.outcome ->> 'further_education')::boolean, false),
        r.anonymised_at IS NOT NULL, shard, delta
    )
    ON CONFLICT (municipality, library, referring_partner_id, receiving_partner_id, status, overdue, was_overdue,
                 course_finished, moved_to_work, further_education, anonymised, shard)
    DO UPDATE SET count = c.count + excluded.count
$$;

CREATE FUNCTION referral_need_count(r referrals, delta bigint, shard smallint) RETURNS void LANGUAGE sql SET search_path FROM CURRENT AS $$
    INSERT INTO referral_need_counts AS c
    SELECT r.municipality, r.library, r.referring_partner_id, r.receiving_partner_id, need.value ->> 'area', shard,
           sum(delta)
      FROM jsonb_array_elements(r.needs) AS need
     GROUP BY need.value ->> 'area'
    ON CONFLICT (municipality, library, referring_partner_id, receiving_partner_id, area, shard)
    DO UPDATE SET count = c.count + excluded.count
$$;

CREATE FUNCTION referral_figures_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    shard smallint := (txid_current() % 4)::smallint;
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

-- Deferred to the commit: the counters' rows are locked only while the changing transaction commits. A row
-- changed twice in one transaction fires twice, each with its own old and new row: the deltas add up.
CREATE CONSTRAINT TRIGGER referral_figures AFTER INSERT OR UPDATE ON referrals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION referral_figures_changed();

CREATE FUNCTION rebuild_referral_figures() RETURNS void LANGUAGE sql SET search_path FROM CURRENT AS $$
    -- TRUNCATE waits for writers whose counters are not committed yet and holds the rest until the rebuild
    -- commits; a writer that commits after it adds its change to the rebuilt figures, which did not see it.
    TRUNCATE referral_counts, referral_need_counts, referral_intakes;
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
$$;

SELECT rebuild_referral_figures();
