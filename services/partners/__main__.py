"""`python -m services.partners` runs the partners service against the configured NATS and PostgreSQL."""

from services.partners.app import build
from shared.service import run_service

run_service("partners", build)
