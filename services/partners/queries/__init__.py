"""Read models of the partners service: partners and the map, partnerships, feeds, webhooks, API keys."""
