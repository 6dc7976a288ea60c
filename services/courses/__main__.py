"""`python -m services.courses` runs the courses service against the configured NATS and PostgreSQL."""

from services.courses.app import build
from shared.service import run_service

run_service("courses", build)
