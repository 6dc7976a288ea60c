-- When the row's transaction committed, recorded by the relay as it marks the row sent (PostgreSQL's commit
-- timestamp of the row's xmin, where the server keeps them: track_commit_timestamp, on in the embedded server and
-- in deploy/); NULL where the server does not keep them. created_at is the row's insert, inside the writer's
-- statement, before the rest of that statement, the commit's triggers and its WAL flush; sent_at - committed_at
-- is the relay's own share: "outbox commit → JetStream ack" (issue 17).
ALTER TABLE outbox ADD COLUMN committed_at timestamptz;
