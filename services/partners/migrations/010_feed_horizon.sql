-- A partner's feed keeps its entries PARTNERNET_FEED_RETENTION_DAYS (services/partners/commands/retention.py).
-- feed_horizons remembers, per partner, the highest position pruned: every pruned entry lies at or below it, so a
-- cursor (`after`) below it would skip an entry and is refused (410), and one at or above it skips none.
CREATE TABLE feed_horizons (
    partner_id     uuid PRIMARY KEY REFERENCES partners (id),
    pruned_through bigint NOT NULL
);
-- The oldest entries first without reading the table; and the deliveries of an entry (a pending or failed one
-- keeps its entry, and deleting an entry checks its deliveries through this index, not by reading them all).
CREATE INDEX feed_entries_by_age ON feed_entries (time);
CREATE INDEX deliveries_by_feed_position ON deliveries (feed_position);
