-- Tenants, partner organisations, and each partner's feed (a projection of events about it).
CREATE TABLE municipalities (
    slug          text PRIMARY KEY,
    name          text NOT NULL,
    registered_at timestamptz NOT NULL
);

CREATE TABLE libraries (
    slug          text PRIMARY KEY,
    municipality  text NOT NULL REFERENCES municipalities (slug),
    name          text NOT NULL,
    registered_at timestamptz NOT NULL
);

CREATE TABLE partners (
    id                         uuid PRIMARY KEY,
    municipality               text NOT NULL REFERENCES municipalities (slug),
    name                       text NOT NULL,
    kind                       text NOT NULL,
    chamber_of_commerce_number text,
    registered_at              timestamptz NOT NULL
);
CREATE INDEX partners_by_municipality ON partners (municipality, name);

CREATE TABLE feed_entries (
    position   bigserial PRIMARY KEY,
    partner_id uuid NOT NULL REFERENCES partners (id),
    event_id   uuid NOT NULL,
    event_type text NOT NULL,
    time       timestamptz NOT NULL,
    library    text,
    data       jsonb NOT NULL,
    UNIQUE (partner_id, event_id)
);
CREATE INDEX feed_entries_by_partner ON feed_entries (partner_id, position);
