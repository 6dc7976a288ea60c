-- Referrals only within a partnership (issue 14): the partnerships the partners service activated and ended
-- (shared/known_parties.py KnownPartnerships), and the municipality-wide referral agreements the coordinator
-- records with a partner (for every library of the municipality).
CREATE TABLE known_partnerships (
    id           uuid PRIMARY KEY,
    partner_id   uuid NOT NULL,
    library      text NOT NULL,
    municipality text NOT NULL,
    roles        jsonb NOT NULL DEFAULT '[]'::jsonb,
    activated    boolean NOT NULL DEFAULT false,
    ended        boolean NOT NULL DEFAULT false
);
CREATE INDEX known_partnerships_by_partner ON known_partnerships (partner_id, library);

CREATE TABLE referral_agreements (
    id           uuid PRIMARY KEY,
    municipality text NOT NULL,
    partner_id   uuid NOT NULL,
    note         text,
    recorded_at  timestamptz NOT NULL,
    recorded_by  text NOT NULL,
    ended_at     timestamptz,
    ended_by     text,
    version      integer NOT NULL DEFAULT 1
);
-- One agreement in force per partner and municipality.
CREATE UNIQUE INDEX referral_agreements_in_force ON referral_agreements (municipality, partner_id)
    WHERE ended_at IS NULL;
CREATE INDEX referral_agreements_by_municipality ON referral_agreements (municipality, recorded_at DESC, id DESC);
