-- Referrals with the participant's personal data encrypted, their history, and local projections of
-- the libraries and partners this service needs to check a referral (built from the partners' events).
CREATE TABLE known_libraries (
    slug         text PRIMARY KEY,
    municipality text NOT NULL
);

CREATE TABLE known_partners (
    id           uuid PRIMARY KEY,
    municipality text NOT NULL,
    name         text NOT NULL
);

CREATE TABLE referrals (
    id                    uuid PRIMARY KEY,
    library               text NOT NULL,
    municipality          text NOT NULL,
    referring_partner_id  uuid NOT NULL,
    status                text NOT NULL,
    participant_pseudonym text NOT NULL,
    participant_sealed    bytea NOT NULL,   -- Fernet-encrypted personal data of the participant
    needs                 jsonb NOT NULL,
    reason                text NOT NULL,
    preferred_channel     text NOT NULL,
    contact_person        jsonb NOT NULL,
    consent               jsonb NOT NULL,
    submitted_at          timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX referrals_by_library ON referrals (library, status, submitted_at);
CREATE INDEX referrals_by_partner ON referrals (referring_partner_id, submitted_at);
CREATE INDEX referrals_by_pseudonym ON referrals (participant_pseudonym);

CREATE TABLE referral_history (
    id          bigserial PRIMARY KEY,
    referral_id uuid NOT NULL REFERENCES referrals (id),
    status      text NOT NULL,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    note        text
);
CREATE INDEX referral_history_by_referral ON referral_history (referral_id, id);
