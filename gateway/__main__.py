"""`python -m gateway` runs the gateway against the configured NATS."""

from gateway.server import serve

serve()
