-- Language buddies (issue 18): a buddy is matched to a participant the library knows from a referral. This
-- service keeps of each referral of its libraries what that needs, built from the referrals service's events
-- (pseudonyms only): who referred, who receives, and the referral's state as its newest event says. A buddy
-- assignment names its referral.
CREATE TABLE known_referrals (
    id                    uuid PRIMARY KEY,
    participant_pseudonym text NOT NULL,
    library               text NOT NULL,
    municipality          text NOT NULL,
    referring_partner_id  uuid,
    receiving_partner_id  uuid,
    status                text NOT NULL,
    status_at             timestamptz NOT NULL   -- the time of the event that set it: an older one changes nothing
);
CREATE INDEX known_referrals_by_pseudonym ON known_referrals (participant_pseudonym);

ALTER TABLE assignments ADD COLUMN referral_id uuid;
CREATE INDEX assignments_by_referral ON assignments (referral_id, status) WHERE referral_id IS NOT NULL;
