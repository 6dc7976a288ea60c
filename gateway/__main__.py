"""`python -m gateway` runs the gateway against the configured NATS; `--name` tells a launcher's processes apart."""

import argparse

from gateway.server import serve

parser = argparse.ArgumentParser(prog="python -m gateway")
parser.add_argument("--name", default="gateway", help="this process's name among several (gateway-2 …); only shown")
parser.parse_args()
serve()
