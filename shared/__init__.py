"""What every partnernet service shares: contracts, messaging, the outbox and inbox, db, telemetry, tenancy."""
