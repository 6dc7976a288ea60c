-- Partner organisations get contact details, skill areas and a lifecycle; partnerships between a library
-- and a partner; the courses partners offer (to route referrals to their courses); each feed entry goes
-- out on NATS and to the partner's webhooks (every try logged); partners' API keys, kept as hashes.
ALTER TABLE partners
    ADD COLUMN status        text NOT NULL DEFAULT 'active',
    ADD COLUMN status_reason text,
    ADD COLUMN addresses     jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN contacts      jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN skill_areas   jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN email         text,
    ADD COLUMN phone         text,
    ADD COLUMN website       text,
    ADD COLUMN version       integer NOT NULL DEFAULT 1,
    ADD COLUMN updated_at    timestamptz,
    ADD COLUMN feed_key      bytea;
-- The key of the partner's own pseudonyms: 244 random bits for partners registered before it existed.
UPDATE partners SET updated_at = registered_at,
                    feed_key = uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
ALTER TABLE partners ALTER COLUMN updated_at SET NOT NULL, ALTER COLUMN feed_key SET NOT NULL;
CREATE INDEX partners_by_kind ON partners (municipality, kind);

CREATE TABLE partnerships (
    id                    uuid PRIMARY KEY,
    library               text NOT NULL REFERENCES libraries (slug),
    municipality          text NOT NULL REFERENCES municipalities (slug),
    partner_id            uuid NOT NULL REFERENCES partners (id),
    roles                 jsonb NOT NULL,
    library_contributions jsonb NOT NULL,
    partner_contributions jsonb NOT NULL,
    starts_on             date NOT NULL,
    ends_on               date,
    review_on             date,
    status                text NOT NULL,
    note                  text,
    version               integer NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    activated_at          timestamptz,
    ended_at              timestamptz,
    end_reason            text
);
-- One living partnership per library and partner; after it ended a new one may follow.
CREATE UNIQUE INDEX partnerships_one_living ON partnerships (library, partner_id) WHERE status <> 'ended';
CREATE INDEX partnerships_by_partner ON partnerships (partner_id, status);
CREATE INDEX partnerships_by_municipality ON partnerships (municipality, created_at, id);

CREATE TABLE known_courses (
    course_id  uuid PRIMARY KEY,
    partner_id uuid NOT NULL
);

ALTER TABLE feed_entries
    ADD COLUMN source       text,
    ADD COLUMN subject      text,
    ADD COLUMN published_at timestamptz;
-- Entries of before carry the referral's own pseudonym: they stay readable over HTTP, but are not sent out.
UPDATE feed_entries SET published_at = time;
CREATE INDEX feed_entries_unpublished ON feed_entries (position) WHERE published_at IS NULL;

CREATE TABLE webhooks (
    id                         uuid PRIMARY KEY,
    partner_id                 uuid NOT NULL REFERENCES partners (id),
    url                        text NOT NULL,
    event_types                jsonb NOT NULL,
    description                text,
    status                     text NOT NULL,
    secret                     text NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    secret_rotated_at          timestamptz,
    version                    integer NOT NULL,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL,
    deleted_at                 timestamptz
);
CREATE INDEX webhooks_by_partner ON webhooks (partner_id, created_at, id);

CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id),
    partner_id       uuid NOT NULL REFERENCES partners (id),
    feed_position    bigint NOT NULL REFERENCES feed_entries (position),
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    status           text NOT NULL,
    attempts         integer NOT NULL,
    next_attempt_at  timestamptz,
    lease_until      timestamptz,
    last_status_code integer,
    last_error       text,
    trace_context    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    failed_at        timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, created_at, id);

CREATE TABLE delivery_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES deliveries (id),
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer,
    error       text,
    duration_ms integer NOT NULL
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, id);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    partner_id   uuid NOT NULL REFERENCES partners (id),
    name         text NOT NULL,
    scopes       jsonb NOT NULL,
    digest       text NOT NULL UNIQUE,
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_by_partner ON api_keys (partner_id, created_at, id);
