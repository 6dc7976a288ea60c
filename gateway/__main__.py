"""`python -m gateway` runs the gateway against the configured NATS; `partnernet up` starts several of these."""

import argparse

from gateway.server import serve

parser = argparse.ArgumentParser(prog="python -m gateway")
parser.add_argument("--name", default="gateway", help="this process's name among several (gateway-2 …); only shown")
parser.add_argument(
    "--share-port", action="store_true", help="bind the port with SO_REUSEPORT beside other gateway processes"
)
parser.add_argument("--port", type=int, default=None, help="the HTTP port (default: $PARTNERNET_PORT or 8000)")
arguments = parser.parse_args()
serve(port=arguments.port, share_port=arguments.share_port)
