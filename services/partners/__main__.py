"""`python -m services.partners` runs the partners service against the configured NATS and PostgreSQL."""

from shared.cli import run_service

run_service("partners")
