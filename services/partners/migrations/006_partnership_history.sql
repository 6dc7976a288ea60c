-- Issue 18: every change of a partner or partnership is kept (who, when, what it was and became), and a
-- partnership's review reminds the library once per review date.
CREATE TABLE partner_history (
    id bigserial PRIMARY KEY,
    partner_id uuid NOT NULL REFERENCES partners (id),
    partnership_id uuid REFERENCES partnerships (id),
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    version integer NOT NULL,
    changes jsonb NOT NULL DEFAULT '{}'::jsonb,
    reason text
);
CREATE INDEX partner_history_by_partner ON partner_history (partner_id, id);
CREATE INDEX partner_history_by_partnership ON partner_history (partnership_id, id) WHERE partnership_id IS NOT NULL;

ALTER TABLE partnerships ADD COLUMN review_reminded_for date;
