-- The closed loop: referrals in both directions (a library refers to a partner's course), the
-- lifecycle with versions, deadlines and outcomes, erasure of personal data after retention, the log
-- of who read personal data, each library's policy, and the status of known partners.

-- Partners' status from partner.suspended / .reactivated / .ended; the time orders events that race.
ALTER TABLE known_partners
    ADD COLUMN status            text NOT NULL DEFAULT 'active',
    ADD COLUMN status_changed_at timestamptz;

-- Per library: days to answer a referral, days until an unanswered one expires, days of retention.
CREATE TABLE library_policies (
    library        text PRIMARY KEY,
    response_days  integer NOT NULL,
    expiry_days    integer NOT NULL,
    retention_days integer NOT NULL,
    version        integer NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL
);

ALTER TABLE referrals
    ALTER COLUMN referring_partner_id DROP NOT NULL,
    ALTER COLUMN participant_sealed DROP NOT NULL,  -- NULL once erased
    ALTER COLUMN reason DROP NOT NULL,              -- free text about the person: erased with the personal data
    ADD COLUMN referring_library    text,           -- set when the library referred (to a partner)
    ADD COLUMN receiving_partner_id uuid,           -- set when a partner receives
    ADD COLUMN course_id            uuid,
    ADD COLUMN enrolment_id         uuid,
    ADD COLUMN version              integer NOT NULL DEFAULT 1,
    ADD COLUMN respond_by           timestamptz,
    ADD COLUMN expires_at           timestamptz,
    ADD COLUMN overdue              boolean NOT NULL DEFAULT false,  -- unanswered past respond_by, still submitted
    ADD COLUMN overdue_at           timestamptz,    -- kept after an answer: answered late
    ADD COLUMN intake               jsonb,
    ADD COLUMN outcome              jsonb,
    ADD COLUMN decline_reason       text,
    ADD COLUMN withdraw_reason      text,
    ADD COLUMN closed_at            timestamptz,
    ADD COLUMN erase_after          timestamptz,
    ADD COLUMN anonymised_at        timestamptz,
    ADD CONSTRAINT referrals_one_referrer
        CHECK ((referring_partner_id IS NULL) <> (referring_library IS NULL)),
    ADD CONSTRAINT referrals_library_refers_to_a_partner
        CHECK (referring_library IS NULL OR (referring_library = library AND receiving_partner_id IS NOT NULL));

-- Referrals from before this migration get the default policy (services/referrals/domain.py).
UPDATE referrals
   SET respond_by = submitted_at + interval '10 days',
       expires_at = submitted_at + interval '30 days'
 WHERE respond_by IS NULL;
ALTER TABLE referrals
    ALTER COLUMN respond_by SET NOT NULL,
    ALTER COLUMN expires_at SET NOT NULL;

CREATE INDEX referrals_worklist ON referrals (library, overdue DESC, submitted_at DESC, id DESC);
CREATE INDEX referrals_by_receiving_partner ON referrals (receiving_partner_id, submitted_at)
    WHERE receiving_partner_id IS NOT NULL;
CREATE INDEX referrals_awaiting_answer ON referrals (respond_by) WHERE status = 'submitted';
CREATE INDEX referrals_awaiting_expiry ON referrals (expires_at) WHERE status = 'submitted';
CREATE INDEX referrals_awaiting_erasure ON referrals (erase_after) WHERE anonymised_at IS NULL;

ALTER TABLE referral_history
    ADD COLUMN step    text,
    ADD COLUMN version integer,
    ADD COLUMN details jsonb NOT NULL DEFAULT '{}'::jsonb;  -- codes and dates only, never personal data

-- Who read a participant's personal data: never the data itself, only who, when and why.
CREATE TABLE personal_data_reads (
    id                    bigserial PRIMARY KEY,
    referral_id           uuid NOT NULL REFERENCES referrals (id),
    library               text NOT NULL,
    participant_pseudonym text NOT NULL,
    actor                 text NOT NULL,
    actor_role            text NOT NULL,
    actor_organisation    text,
    purpose               text NOT NULL,
    at                    timestamptz NOT NULL
);
CREATE INDEX personal_data_reads_by_library ON personal_data_reads (library, id DESC);
CREATE INDEX personal_data_reads_by_referral ON personal_data_reads (referral_id, id DESC);
