"""`python -m gateway` runs the gateway against the configured NATS."""

from shared.cli import run_gateway

run_gateway()
