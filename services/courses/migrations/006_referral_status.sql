-- Where each known referral stands, so that an enrolment from one that cannot take a course (not accepted yet,
-- or closed) is refused at once. The time of the referral's event decides between events that arrive out of
-- order; NULL for referrals kept before this (the referrals service still decides for those).
ALTER TABLE known_referrals
    ADD COLUMN status text,
    ADD COLUMN status_at timestamptz;
