-- A row's created_at is when it was written (clock_timestamp()), not when its transaction began (now()): a
-- submission's one statement writes the referral, its outbox row and ~26 blind-index rows, and its commit then runs
-- the figures' triggers and waits for its WAL flush; "outbox commit → JetStream ack" (the benchmark, from
-- created_at to sent_at) counted all of that as the relay's delay, and the backlog's "since when" a long
-- transaction's start (issue 17).
ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT clock_timestamp();
