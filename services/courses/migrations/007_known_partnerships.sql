-- A partner offers a course hosted at a library only while it partners with that library (issue 15): the
-- courses service keeps the partnerships from the partners service's events (shared/known_parties.py).
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
