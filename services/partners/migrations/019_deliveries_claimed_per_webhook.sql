-- The delivery worker claims, per webhook, at most the places its deliveries in flight leave (store/subscriptions.py
-- DELIVERIES_CLAIM, IN_FLIGHT_PER_WEBHOOK): each webhook's oldest due pending deliveries are read from the head of
-- the first index, as many as it may take, and its deliveries in flight (a lease set) counted on the second, which
-- holds only the rows a worker claimed and has not settled. The claim then reads about what it claims, not every
-- due row of every webhook (a replay of thousands of failed deliveries).
CREATE INDEX IF NOT EXISTS deliveries_due_by_webhook ON deliveries (webhook_id, next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_leased_by_webhook ON deliveries (webhook_id, lease_until)
    WHERE status = 'pending' AND lease_until IS NOT NULL;
-- The old claim's index goes: beside it the planner, guessing that a webhook's due rows are spread evenly over
-- the due order, read it and filtered by webhook (5,000 rows read per webhook at a replay of 10,000). The worker's
-- backlog (queries/backlogs.py, every due row counted) reads the pending rows of the new index instead.
DROP INDEX IF EXISTS deliveries_due;

-- Feed entries are held back by positions (migrations 016-018, feed_settled_through); the transaction that wrote an
-- entry (migration 003) is read by nothing any more.
ALTER TABLE feed_entries DROP COLUMN IF EXISTS written_by;
