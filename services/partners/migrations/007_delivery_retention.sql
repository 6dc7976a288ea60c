-- Delivered webhook deliveries (and their tries) go after PARTNERNET_DELIVERY_RETENTION_DAYS
-- (services/partners/commands/retention.py): the oldest first, found through this index without reading the table.
CREATE INDEX deliveries_delivered ON deliveries (delivered_at) WHERE status = 'delivered';
