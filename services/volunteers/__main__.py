"""`python -m services.volunteers` runs the volunteers service against the configured NATS and PostgreSQL."""

from services.volunteers.app import build
from shared.service import run_service

run_service("volunteers", build)
