-- Recruitment (vacancies, volunteers and interns with their pipeline and screening), training
-- (modules, sessions, attendance, qualifications) and assignment (open assignments from courses,
-- assignments, hours); plus local projections of the libraries, partners and partnerships this
-- service checks against, built from the partners service's events.
CREATE TABLE known_libraries (
    slug         text PRIMARY KEY,
    municipality text NOT NULL
);

-- Name and kind come with partner.registered; the status may arrive first (another consumer).
CREATE TABLE known_partners (
    id           uuid PRIMARY KEY,
    municipality text,
    name         text,
    kind         text,
    status       text NOT NULL DEFAULT 'active'
);

-- Activation and end arrive on separate consumers, so each sets its own flag.
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

CREATE TABLE vacancies (
    id                              uuid PRIMARY KEY,
    library                         text NOT NULL,
    municipality                    text NOT NULL,
    title                           text NOT NULL,
    description                     text NOT NULL,
    hours_per_week                  integer,
    qualifications_needed           jsonb NOT NULL,
    certificate_of_conduct_required boolean NOT NULL,
    status                          text NOT NULL,
    version                         integer NOT NULL,
    created_at                      timestamptz NOT NULL,
    updated_at                      timestamptz NOT NULL,
    published_at                    timestamptz,
    closed_at                       timestamptz
);
CREATE INDEX vacancies_by_library ON vacancies (library, created_at, id);
CREATE INDEX vacancies_by_municipality ON vacancies (municipality, created_at, id);

-- Volunteers and interns alike; their names and contact details stay in this table.
CREATE TABLE volunteers (
    id                              uuid PRIMARY KEY,
    kind                            text NOT NULL,
    library                         text NOT NULL,
    municipality                    text NOT NULL,
    status                          text NOT NULL,
    status_reason                   text,
    channel                         text NOT NULL,
    via_partner_id                  uuid,
    vacancy_id                      uuid REFERENCES vacancies (id),
    name                            text NOT NULL,
    email                           text,
    phone                           text,
    motivation                      text,
    certificate_of_conduct_required boolean NOT NULL,
    version                         integer NOT NULL,
    applied_at                      timestamptz NOT NULL,
    updated_at                      timestamptz NOT NULL
);
CREATE INDEX volunteers_by_library ON volunteers (library, applied_at, id);
CREATE INDEX volunteers_by_municipality ON volunteers (municipality, applied_at, id);
CREATE INDEX volunteers_by_partner ON volunteers (via_partner_id, applied_at, id);

CREATE TABLE volunteer_history (
    id           bigserial PRIMARY KEY,
    volunteer_id uuid NOT NULL REFERENCES volunteers (id),
    status       text NOT NULL,
    step         text,
    at           timestamptz NOT NULL,
    actor        text NOT NULL,
    reason       text
);
CREATE INDEX volunteer_history_by_volunteer ON volunteer_history (volunteer_id, id);

CREATE TABLE internships (
    volunteer_id      uuid PRIMARY KEY REFERENCES volunteers (id),
    school_partner_id uuid NOT NULL,
    starts_on         date NOT NULL,
    ends_on           date NOT NULL,
    supervisor        jsonb NOT NULL,
    learning_goals    jsonb NOT NULL,
    hours             integer NOT NULL,
    ended_on          date
);
CREATE INDEX internships_by_end ON internships (ended_on, ends_on);

-- Certificates of conduct (VOG): one row per request; a receipt completes the open request.
CREATE TABLE certificates (
    id           uuid PRIMARY KEY,
    volunteer_id uuid NOT NULL REFERENCES volunteers (id),
    requested_at timestamptz NOT NULL,
    received_at  timestamptz,
    issued_on    date,
    valid_until  date
);
CREATE INDEX certificates_by_volunteer ON certificates (volunteer_id, requested_at);

CREATE TABLE training_modules (
    id                  uuid PRIMARY KEY,
    library             text NOT NULL,
    municipality        text NOT NULL,
    title               text NOT NULL,
    description         text NOT NULL,
    delivered_by        text NOT NULL,
    provider_partner_id uuid,
    purchase_id         uuid UNIQUE,
    qualification       text,
    validity_months     integer,
    version             integer NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX training_modules_by_library ON training_modules (library, created_at, id);

CREATE TABLE training_sessions (
    id           uuid PRIMARY KEY,
    module_id    uuid NOT NULL REFERENCES training_modules (id),
    library      text NOT NULL,
    municipality text NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz,
    place        text NOT NULL,
    capacity     integer,
    created_at   timestamptz NOT NULL
);
CREATE INDEX training_sessions_by_module ON training_sessions (module_id, starts_at, id);
CREATE INDEX training_sessions_by_library ON training_sessions (library, starts_at, id);

CREATE TABLE attendance (
    session_id   uuid NOT NULL REFERENCES training_sessions (id),
    volunteer_id uuid NOT NULL REFERENCES volunteers (id),
    attended     boolean NOT NULL,
    completed    boolean NOT NULL,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (session_id, volunteer_id)
);

-- The latest grant of each qualification per volunteer; `expired_at` once the expiry was announced.
CREATE TABLE qualifications (
    volunteer_id uuid NOT NULL REFERENCES volunteers (id),
    code         text NOT NULL,
    library      text NOT NULL,
    municipality text NOT NULL,
    module_id    uuid REFERENCES training_modules (id),
    session_id   uuid REFERENCES training_sessions (id),
    obtained_on  date NOT NULL,
    valid_until  date,
    expired_at   timestamptz,
    PRIMARY KEY (volunteer_id, code)
);
CREATE INDEX qualifications_by_expiry ON qualifications (expired_at, valid_until);

-- Courses that need volunteers as guides (from course.published): the open assignments.
CREATE TABLE openings (
    id                              uuid PRIMARY KEY,
    course_id                       uuid NOT NULL UNIQUE,
    library                         text NOT NULL,
    municipality                    text NOT NULL,
    title                           text NOT NULL,
    skill_area                      text NOT NULL,
    volunteers_needed               integer NOT NULL,
    qualifications_needed           jsonb NOT NULL,
    certificate_of_conduct_required boolean NOT NULL,
    version                         integer NOT NULL,
    opened_at                       timestamptz NOT NULL,
    updated_at                      timestamptz NOT NULL,
    cancelled_at                    timestamptz  -- the course was cancelled: nothing to guide any more
);
CREATE INDEX openings_by_library ON openings (library, opened_at, id);

CREATE TABLE assignments (
    id                    uuid PRIMARY KEY,
    volunteer_id          uuid NOT NULL REFERENCES volunteers (id),
    library               text NOT NULL,
    municipality          text NOT NULL,
    kind                  text NOT NULL,
    status                text NOT NULL,
    opening_id            uuid REFERENCES openings (id),
    course_id             uuid,
    course_session_id     uuid,
    participant_pseudonym text,
    starts_on             date,
    ends_on               date,
    version               integer NOT NULL,
    assigned_at           timestamptz NOT NULL,
    ended_at              timestamptz,
    assigned_by           text NOT NULL
);
CREATE INDEX assignments_by_library ON assignments (library, assigned_at, id);
CREATE INDEX assignments_by_volunteer ON assignments (volunteer_id, assigned_at, id);
CREATE INDEX assignments_by_opening ON assignments (opening_id, status);

CREATE TABLE hours (
    id            uuid PRIMARY KEY,
    assignment_id uuid NOT NULL REFERENCES assignments (id),
    volunteer_id  uuid NOT NULL REFERENCES volunteers (id),
    library       text NOT NULL,
    municipality  text NOT NULL,
    worked_on     date NOT NULL,
    month         text NOT NULL,
    minutes       integer NOT NULL,
    note          text,
    logged_at     timestamptz NOT NULL,
    logged_by     text NOT NULL
);
CREATE INDEX hours_by_assignment ON hours (assignment_id);
CREATE INDEX hours_by_month ON hours (month, library, volunteer_id);
