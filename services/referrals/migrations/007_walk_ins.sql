-- Walk-ins and self-referrals (issue 14): the library's staff log someone who came without any partner; such a
-- referral names no referring partner, no referring library and no receiving partner.
ALTER TABLE referrals ADD COLUMN arrival text;
ALTER TABLE referrals DROP CONSTRAINT referrals_one_referrer;
ALTER TABLE referrals ADD CONSTRAINT referrals_one_referrer CHECK (
    CASE WHEN arrival IS NULL THEN (referring_partner_id IS NULL) <> (referring_library IS NULL)
    ELSE referring_partner_id IS NULL AND referring_library IS NULL AND receiving_partner_id IS NULL END
);
