-- Possible duplicate participants without names in clear (a blind index of keyed hashes), staff's decisions
-- on them, and the participant's own page: a personal code (its keyed hash only), the participant's requests
-- to change or cancel, and the names of libraries the page shows.

-- Keyed hashes (HMAC-SHA256) of a participant's normalised name and birth date: one `exact` digest and the
-- `feature` digests of near matches. Kept only while the referral is open; gone with the personal data.
CREATE TABLE referral_blind_index (
    referral_id  uuid NOT NULL REFERENCES referrals (id),
    municipality text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('exact', 'feature')),
    digest       bytea NOT NULL,
    PRIMARY KEY (referral_id, digest)
);
CREATE INDEX referral_blind_index_lookup ON referral_blind_index (municipality, digest);

-- "Possible duplicate of referral X": `referral_id` was submitted after `duplicate_of`, which was open then.
CREATE TABLE duplicate_warnings (
    id                uuid PRIMARY KEY,
    referral_id       uuid NOT NULL REFERENCES referrals (id),
    duplicate_of      uuid NOT NULL REFERENCES referrals (id),
    library           text NOT NULL,   -- of `referral_id`: its staff see and decide
    duplicate_library text NOT NULL,
    municipality      text NOT NULL,
    similarity        double precision NOT NULL,
    exact             boolean NOT NULL,
    decision          text NOT NULL DEFAULT 'open',
    flagged_at        timestamptz NOT NULL,
    decided_at        timestamptz,
    decided_by        text,
    version           integer NOT NULL DEFAULT 1,
    CONSTRAINT duplicate_warnings_once UNIQUE (referral_id, duplicate_of)
);
CREATE INDEX duplicate_warnings_by_library ON duplicate_warnings (library, flagged_at DESC, id DESC);
CREATE INDEX duplicate_warnings_by_referral ON duplicate_warnings (referral_id);
CREATE INDEX duplicate_warnings_by_duplicate ON duplicate_warnings (duplicate_of);

-- One working code per referral; a new one replaces it. Only the keyed hash of the code is stored.
CREATE TABLE participant_codes (
    referral_id   uuid PRIMARY KEY REFERENCES referrals (id),
    library       text NOT NULL,
    code_digest   bytea NOT NULL,
    contact_phone text,                -- the library's number for changes (never the participant's)
    issued_at     timestamptz NOT NULL,
    issued_by     text NOT NULL,
    CONSTRAINT participant_codes_digest UNIQUE (code_digest)
);

-- "Please call me about another date" / "I will not come", asked on the participant's page.
CREATE TABLE participant_change_requests (
    id           uuid PRIMARY KEY,
    referral_id  uuid NOT NULL REFERENCES referrals (id),
    library      text NOT NULL,
    kind         text NOT NULL,
    status       text NOT NULL DEFAULT 'open',
    requested_at timestamptz NOT NULL,
    handled_at   timestamptz,
    handled_by   text,
    version      integer NOT NULL DEFAULT 1
);
CREATE INDEX participant_change_requests_by_library ON participant_change_requests (library, requested_at DESC, id DESC);
CREATE INDEX participant_change_requests_by_referral ON participant_change_requests (referral_id, status);

-- The names of libraries, from library.registered, for the participant's page ("Bibliotheek Zuidstad").
CREATE TABLE library_names (
    slug text PRIMARY KEY,
    name text NOT NULL
);
