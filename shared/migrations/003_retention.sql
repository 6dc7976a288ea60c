-- Retention of the plumbing (shared/retention.py): sent outbox rows and inbox rows go after their windows, a
-- small batch at a time. These indexes find the oldest rows without reading the table, so a sweep that finds
-- nothing to delete costs one index probe however large the tables grow.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX inbox_by_age ON inbox (processed_at);
