"""partners: the tenants, partner organisations and partnerships, and partners' feeds (NATS, webhooks) and keys."""
