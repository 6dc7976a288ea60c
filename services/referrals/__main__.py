"""`python -m services.referrals` runs the referrals service against the configured NATS and PostgreSQL."""

from services.referrals.app import build
from shared.service import run_service

run_service("referrals", build)
