-- The blind index as one row per referral (issue 17). A submission wrote ~26 rows, its exact digest and each
-- feature digest, each a heap tuple and two index entries (the primary key and the municipality's lookup): ~78 of
-- the ~130 WAL records of a referral at the pipeline's maximum. Now one row holds the referral's exact digest and
-- its feature digests as an array: a heap tuple, its key, the exact digest's entry and one GIN entry per feature.
-- The lookups answer what they answered (store/duplicates.py, store/person.py): the exact digest by the
-- municipality's btree, a near match by the features' GIN index (`&&`, then the municipality), the features a
-- candidate shares counted in its row. The digests themselves are unchanged.
-- `features` is NULL once the referral closes (store/duplicates.py `forget_features`); the exact digest stays while
-- the personal data does, and the row goes with it (`forget`).
CREATE TABLE referral_blind_keys (
    referral_id  uuid PRIMARY KEY,
    municipality text NOT NULL,
    exact        bytea NOT NULL,
    features     bytea[]
);
CREATE INDEX referral_blind_keys_exact ON referral_blind_keys (exact);
-- Without the pending list (fastupdate): every submission's duplicate lookup reads this index, and a pending list
-- is read whole by every lookup until a later insert or vacuum merges it.
CREATE INDEX referral_blind_keys_features ON referral_blind_keys USING gin (features) WITH (fastupdate = off);

-- Every referral that has an exact digest keeps it and its features. A submission always wrote both; a referral
-- with features and no exact digest can only come from a change by hand, and 016's trigger marked it due when its
-- exact digest went: the backfill gives it the exact digest back, its near matches are gone with it.
INSERT INTO referral_blind_keys (referral_id, municipality, exact, features)
SELECT e.referral_id, e.municipality, e.digest,
       (SELECT array_agg(f.digest ORDER BY f.digest) FROM referral_blind_index f
         WHERE f.referral_id = e.referral_id AND f.kind = 'feature')
  FROM referral_blind_index e
 WHERE e.kind = 'exact';

DROP TABLE referral_blind_index;  -- and 016's trigger on it

-- As 016's, on the new table: whatever removes the exact digest (the row) of a referral that still holds personal
-- data marks the referral, so the backfill gives it back.
CREATE OR REPLACE FUNCTION referral_exact_digest_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE referrals SET exact_digest_due = true
     WHERE id = OLD.referral_id AND participant_sealed IS NOT NULL AND anonymised_at IS NULL;
    RETURN NULL;
END;
$$;

CREATE TRIGGER referral_exact_digest_removed AFTER DELETE ON referral_blind_keys
    FOR EACH ROW EXECUTE FUNCTION referral_exact_digest_removed();

-- A submission's candidates: the referrals of the municipality (but its own) whose exact digest is `exact` or that
-- share a feature digest with `features`, each with whether its exact digest is that one, how many of its features
-- are among `features`, and how many it has. One that has no features any more (closed) is none: a candidate is
-- compared by its features. (Exact and feature digests are HMACs under different keys: one never equals the other.)
-- The planner cannot tell how few rows `features && …` finds (no statistics describe a digest: each is rare), and a
-- sequential scan that evaluates the overlap on every row costs ~20 µs a row (0.5 s at 20,000); so the lookup is
-- planned without one: the exact digest by its btree, the features by their GIN index.
CREATE FUNCTION referral_blind_matches(of_municipality text, leaving_out uuid, exact_digest bytea, feature_digests bytea[])
RETURNS TABLE (referral_id uuid, exact boolean, shared bigint, features integer)
LANGUAGE plpgsql STABLE ROWS 5 SET search_path FROM CURRENT SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
    SELECT b.referral_id, b.exact = exact_digest,
           (SELECT count(*) FROM unnest(b.features) AS feature(digest) WHERE feature.digest = ANY (feature_digests)),
           cardinality(b.features)
      FROM referral_blind_keys b
     WHERE (b.exact = exact_digest OR b.features && feature_digests)
       AND b.municipality = of_municipality
       AND b.referral_id <> leaving_out
       AND cardinality(b.features) > 0;
END;
$$;
