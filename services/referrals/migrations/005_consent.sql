-- Structured consent (issue 14): the consent names the receiving parties by their ids in the network, what is
-- shared and until when; it ends when revoked or when its last day has passed, and from then on no party sees
-- who the participant is.
ALTER TABLE referrals
    ADD COLUMN consent_valid_until date,
    ADD COLUMN consent_ended_at    timestamptz,
    ADD COLUMN consent_state       text NOT NULL DEFAULT 'given',
    ADD COLUMN consent_revocation  jsonb,
    ADD COLUMN consent_recorded_as text;

-- Earlier consents named their receiver in free text: it is kept as it was written, and the consent is read as
-- given to this referral's receiving party for everything the referral carried.
UPDATE referrals SET
    consent_recorded_as = consent ->> 'given_to',
    consent = jsonb_set(
        consent,
        '{given_to}',
        CASE WHEN receiving_partner_id IS NULL
            THEN jsonb_build_array(jsonb_build_object('library', library))
            ELSE jsonb_build_array(jsonb_build_object('partner_id', receiving_partner_id::text))
        END
    ) || '{"shares": ["contact_details", "reason", "outcome"]}'::jsonb
WHERE jsonb_typeof(consent -> 'given_to') = 'string';

UPDATE referrals SET consent_valid_until = (consent ->> 'valid_until')::date WHERE consent_valid_until IS NULL;
ALTER TABLE referrals ALTER COLUMN consent_valid_until SET NOT NULL;

CREATE INDEX referrals_consent_in_force ON referrals (consent_valid_until) WHERE consent_ended_at IS NULL;
