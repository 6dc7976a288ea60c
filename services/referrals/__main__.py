"""`python -m services.referrals` runs the referrals service against the configured NATS and PostgreSQL."""

from shared.cli import run_service

run_service("referrals")
