"""`python -m services.volunteers` runs the volunteers service against the configured NATS and PostgreSQL."""

from shared.cli import run_service

run_service("volunteers")
