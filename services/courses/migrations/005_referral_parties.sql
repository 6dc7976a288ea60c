-- An enrolment from a referral is made by a party to it (issue 15): the courses service keeps who the referral's
-- partners are. Referrals known from before have none recorded, so only their library's staff enrol them.
ALTER TABLE known_referrals ADD COLUMN referring_partner_id uuid;
ALTER TABLE known_referrals ADD COLUMN receiving_partner_id uuid;
