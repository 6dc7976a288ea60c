-- The kernel every service has in its own schema: the transactional outbox and the consumer inbox.
CREATE TABLE outbox (
    position      bigserial PRIMARY KEY,           -- publish order
    event_id      uuid NOT NULL UNIQUE,            -- also the JetStream de-duplication id
    subject       text NOT NULL,
    event_type    text NOT NULL,
    payload       bytea NOT NULL,                  -- the CloudEvents envelope as JSON
    trace_context jsonb NOT NULL DEFAULT '{}'::jsonb,  -- traceparent of the transaction that wrote it
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text
);
-- The relay only ever looks for unsent rows; sent rows are kept for a while so an operator can republish.
CREATE INDEX outbox_unsent ON outbox (position) WHERE sent_at IS NULL;

CREATE TABLE inbox (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
