-- The course offer, sessions and enrolments with their waiting lists, purchasing and budgets, and local
-- projections of the libraries, partners and referrals this service needs (built from their events).
CREATE TABLE known_libraries (
    slug         text PRIMARY KEY,
    municipality text NOT NULL,
    name         text NOT NULL
);

CREATE TABLE known_partners (
    id           uuid PRIMARY KEY,
    municipality text NOT NULL,
    name         text NOT NULL,
    kind         text NOT NULL,
    status       text NOT NULL DEFAULT 'active'   -- active, suspended, ended
);

CREATE TABLE known_referrals (
    id                    uuid PRIMARY KEY,
    municipality          text NOT NULL,
    library               text NOT NULL,
    participant_pseudonym text NOT NULL
);

CREATE TABLE courses (
    id                    uuid PRIMARY KEY,
    municipality          text NOT NULL,
    library               text,            -- the offering or hosting library
    offered_by_partner_id uuid,            -- set for a partner's course
    title                 text NOT NULL,
    description           text NOT NULL,
    skill_area            text NOT NULL,
    audience              text NOT NULL,
    audience_partner_id   uuid,
    level                 text,
    format                text NOT NULL,
    price_cents           bigint NOT NULL CHECK (price_cents >= 0),
    location_kind         text NOT NULL,
    location_library      text,
    location_branch       text,
    location_partner_id   uuid,
    location_address      text,
    location_place        text,
    volunteers_needed     integer NOT NULL CHECK (volunteers_needed >= 0),
    library_contributions jsonb NOT NULL,
    status                text NOT NULL,
    version               integer NOT NULL,
    created_by            text NOT NULL,
    created_at            timestamptz NOT NULL,
    published_at          timestamptz,
    updated_at            timestamptz NOT NULL,
    CHECK (library IS NOT NULL OR offered_by_partner_id IS NOT NULL)
);
CREATE INDEX courses_offer ON courses (municipality, title, id);
CREATE INDEX courses_by_library ON courses (library);
CREATE INDEX courses_by_partner ON courses (offered_by_partner_id);

CREATE TABLE sessions (
    id              uuid PRIMARY KEY,
    course_id       uuid NOT NULL REFERENCES courses (id),
    meetings        jsonb NOT NULL,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    place           text,
    capacity        integer NOT NULL CHECK (capacity > 0),
    confirmed_count integer NOT NULL DEFAULT 0,
    waitlisted_count integer NOT NULL DEFAULT 0,
    next_sequence   bigint NOT NULL DEFAULT 1,   -- the order enrolments came in, handed out under the row lock
    status          text NOT NULL,
    version         integer NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- The database itself refuses overbooking, whatever the code above it does.
    CONSTRAINT sessions_not_overbooked CHECK (confirmed_count <= capacity),
    CHECK (confirmed_count >= 0 AND waitlisted_count >= 0)
);
CREATE INDEX sessions_by_course ON sessions (course_id, starts_at);
CREATE INDEX sessions_by_start ON sessions (starts_at, id);

CREATE TABLE enrolments (
    id                     uuid PRIMARY KEY,
    session_id             uuid NOT NULL REFERENCES sessions (id),
    course_id              uuid NOT NULL REFERENCES courses (id),
    participant_pseudonym  text NOT NULL,
    referral_id            uuid,
    status                 text NOT NULL,
    sequence               bigint NOT NULL,
    enrolled_by            text NOT NULL,
    enrolled_by_library    text,
    enrolled_by_partner_id uuid,
    enrolled_at            timestamptz NOT NULL,
    confirmed_at           timestamptz,
    cancelled_at           timestamptz,
    cancellation_reason    text,
    version                integer NOT NULL,
    updated_at             timestamptz NOT NULL,
    UNIQUE (session_id, sequence)
);
-- One place or waiting-list spot per participant and session.
CREATE UNIQUE INDEX enrolments_one_active ON enrolments (session_id, participant_pseudonym)
    WHERE status IN ('confirmed', 'waitlisted');
CREATE INDEX enrolments_waiting_list ON enrolments (session_id, sequence) WHERE status = 'waitlisted';
CREATE INDEX enrolments_by_course ON enrolments (course_id, enrolled_at);
CREATE INDEX enrolments_by_referral ON enrolments (referral_id);
CREATE INDEX enrolments_by_pseudonym ON enrolments (participant_pseudonym);

CREATE TABLE attendance (
    enrolment_id uuid NOT NULL REFERENCES enrolments (id),
    meeting      integer NOT NULL CHECK (meeting >= 1),
    present      boolean NOT NULL,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (enrolment_id, meeting)
);

CREATE TABLE purchasing_policies (
    library                     text PRIMARY KEY,
    municipality                text NOT NULL,
    second_approver_above_cents bigint NOT NULL CHECK (second_approver_above_cents >= 0),
    version                     integer NOT NULL,
    updated_by                  text NOT NULL,
    updated_at                  timestamptz NOT NULL
);

CREATE TABLE budget_holders (
    library      text NOT NULL,
    subject      text NOT NULL,
    municipality text NOT NULL,
    appointed_by text NOT NULL,
    appointed_at timestamptz NOT NULL,
    PRIMARY KEY (library, subject)
);

CREATE TABLE budgets (
    library         text NOT NULL,
    year            integer NOT NULL,
    municipality    text NOT NULL,
    amount_cents    bigint NOT NULL CHECK (amount_cents >= 0),
    committed_cents bigint NOT NULL DEFAULT 0 CHECK (committed_cents >= 0),
    spent_cents     bigint NOT NULL DEFAULT 0 CHECK (spent_cents >= 0),
    version         integer NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (library, year),
    -- Never more committed and spent than there is.
    CONSTRAINT budgets_not_exceeded CHECK (committed_cents + spent_cents <= amount_cents)
);

CREATE TABLE purchases (
    id                    uuid PRIMARY KEY,
    library               text NOT NULL,
    municipality          text NOT NULL,
    title                 text NOT NULL,
    purpose               text NOT NULL,
    audience              jsonb NOT NULL,
    estimated_cost_cents  bigint NOT NULL CHECK (estimated_cost_cents >= 0),
    budget_year           integer NOT NULL,
    status                text NOT NULL,
    chosen_quote_id       uuid,
    approved_amount_cents bigint,
    order_reference       text,
    sessions_held         integer,
    participants          integer,
    delivered_on          date,
    invoice_amount_cents  bigint,
    invoice_reference     text,
    requested_by          text NOT NULL,
    requested_at          timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    version               integer NOT NULL
);
CREATE INDEX purchases_by_library ON purchases (library, requested_at, id);
CREATE INDEX purchases_by_municipality ON purchases (municipality, requested_at, id);

CREATE TABLE purchase_quotes (
    id                  uuid PRIMARY KEY,
    purchase_id         uuid NOT NULL REFERENCES purchases (id),
    provider_name       text NOT NULL,
    provider_partner_id uuid,
    amount_cents        bigint NOT NULL CHECK (amount_cents >= 0),
    description         text NOT NULL,
    valid_until         date,
    added_by            text NOT NULL,
    added_at            timestamptz NOT NULL
);
CREATE INDEX purchase_quotes_by_purchase ON purchase_quotes (purchase_id, added_at);

CREATE TABLE purchase_approvals (
    purchase_id  uuid NOT NULL REFERENCES purchases (id),
    approver     text NOT NULL,
    quote_id     uuid NOT NULL REFERENCES purchase_quotes (id),
    amount_cents bigint NOT NULL,
    approved_at  timestamptz NOT NULL,
    note         text,
    PRIMARY KEY (purchase_id, approver)   -- one person approves a purchase once
);

CREATE TABLE purchase_history (
    id          bigserial PRIMARY KEY,
    purchase_id uuid NOT NULL REFERENCES purchases (id),
    status      text NOT NULL,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    note        text
);
CREATE INDEX purchase_history_by_purchase ON purchase_history (purchase_id, id);
