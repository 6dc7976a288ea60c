-- The blind index without its foreign key to referrals (issue 17). PostgreSQL checks a foreign key row by row: a
-- submission's ~26 digests made ~26 look-ups of the referral written by the same statement, each locking it
-- (FOR KEY SHARE), 26 of the 27.8 probes of referrals_pkey per referral at the pipeline's maximum. The key
-- guarded nothing that can happen: a referral is never deleted (an erasure anonymises it and deletes its digests,
-- store/duplicates.py `forget`; the trail's sweep deletes history and reads, never the referral), and digests are
-- written only for a referral that exists, by the statement that writes it (store/submission.py) or, for the exact
-- digest, by the backfill of referrals marked due (store/person.py). The history's and the warnings' keys stay.
ALTER TABLE referral_blind_index DROP CONSTRAINT referral_blind_index_referral_id_fkey;
