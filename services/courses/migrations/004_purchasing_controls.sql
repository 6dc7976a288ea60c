-- Purchasing controls: when a purchase was ordered (a delivery cannot precede it), invoices above the approved
-- amount that wait for budget holders to approve the difference, partners invited to quote, and the record of
-- who appointed and removed budget holders.
ALTER TABLE purchases ADD COLUMN ordered_at timestamptz;
UPDATE purchases p SET ordered_at = (
    SELECT min(h.at) FROM purchase_history h WHERE h.purchase_id = p.id AND h.status = 'ordered'
);

CREATE TABLE purchase_invoices (
    id           uuid PRIMARY KEY,
    purchase_id  uuid NOT NULL REFERENCES purchases (id),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    reference    text NOT NULL,
    excess_cents bigint NOT NULL CHECK (excess_cents > 0),  -- above the approved amount
    approvers_needed integer NOT NULL CHECK (approvers_needed IN (1, 2)),
    status       text NOT NULL,                             -- awaiting_approval | approved | refused
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL,
    decided_at   timestamptz,
    decision_note text
);
CREATE INDEX purchase_invoices_by_purchase ON purchase_invoices (purchase_id, recorded_at);
-- At most one invoice of a purchase waits for approval at a time.
CREATE UNIQUE INDEX purchase_invoices_one_waiting ON purchase_invoices (purchase_id) WHERE status = 'awaiting_approval';

CREATE TABLE invoice_approvals (
    invoice_id  uuid NOT NULL REFERENCES purchase_invoices (id),
    approver    text NOT NULL,
    approved_at timestamptz NOT NULL,
    note        text,
    PRIMARY KEY (invoice_id, approver)   -- one person approves an invoice's difference once
);

CREATE TABLE purchase_invitations (
    purchase_id uuid NOT NULL REFERENCES purchases (id),
    partner_id  uuid NOT NULL,
    invited_by  text NOT NULL,
    invited_at  timestamptz NOT NULL,
    PRIMARY KEY (purchase_id, partner_id)
);
CREATE INDEX purchase_invitations_by_partner ON purchase_invitations (partner_id, purchase_id);
CREATE INDEX purchase_quotes_by_provider ON purchase_quotes (provider_partner_id, purchase_id);

CREATE TABLE budget_holder_history (
    id           bigserial PRIMARY KEY,
    library      text NOT NULL,
    municipality text NOT NULL,
    subject      text NOT NULL,
    change       text NOT NULL CHECK (change IN ('appointed', 'removed')),
    actor        text NOT NULL,
    actor_role   text NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX budget_holder_history_by_library ON budget_holder_history (library, id);
