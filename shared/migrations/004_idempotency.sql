-- `Idempotency-Key` kept by the service (shared/idempotency.py): a row per call made with a key, written in the
-- same transaction as the change the call causes, holding the request's keyed fingerprint and the sealed reply.
-- The name is a hash of the actor, the key and the call's number: never the key itself. Pruned by age
-- (PARTNERNET_IDEMPOTENCY_RETENTION_HOURS), a batch at a time, through the index.
CREATE TABLE idempotency_keys (
    name text PRIMARY KEY,
    library text,
    actor text NOT NULL,
    operation text NOT NULL,
    fingerprint text NOT NULL,
    reply bytea,
    created_at timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
