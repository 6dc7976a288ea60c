"""`python -m services.courses` runs the courses service against the configured NATS and PostgreSQL."""

from shared.cli import run_service

run_service("courses")
