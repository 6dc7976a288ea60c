"""Three nats-server nodes in one JetStream cluster on this machine: deploy/'s NATS without Docker.

Each node gets the nats.conf of deploy/compose/nats/nats.conf with this machine's addresses: a name, routes to
the other two, `sync_interval: always`, the lame-duck times and the platform's user with the auth callout. The
nodes share the platform user's password (kept once in the cluster's directory) and each keeps its own store,
so a node stopped and started again catches up from the others. `url` names all three nodes: a client that
loses its node goes on with another (shared/nats_callout.py `cluster_servers`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from launcher.embedded.nats_server import EmbeddedNats, kept_password
from launcher.embedded.processes import free_port

CLUSTER_NAME = "partnernet"
CLUSTER_SIZE = 3


@dataclass(frozen=True)
class ClusterNode:
    """What makes a nats-server one node of the cluster: its name, route port, the others' routes, its monitor."""

    name: str
    cluster_port: int
    route_ports: tuple[int, ...]
    monitor_port: int

    def config(self, host: str, port: int, jetstream_dir: Path) -> str:
        routes = "\n".join(f"    nats-route://{host}:{route}" for route in self.route_ports)
        return (
            "# Written by partnernet: one node of three, with the settings of deploy/compose/nats/nats.conf.\n"
            f"server_name: {self.name}\n"
            f"listen: {host}:{port}\n"
            f"http: {host}:{self.monitor_port}  # /healthz, /varz, /jsz\n"
            "jetstream {\n"
            f"  store_dir: {json.dumps(str(jetstream_dir))}\n"
            "  max_file_store: 10GB\n"
            "  # Flush to disk before acknowledging: with three replicas an acknowledged event survives a power cut.\n"
            "  sync_interval: always\n"
            "}\n"
            "cluster {\n"
            f"  name: {CLUSTER_NAME}\n"
            f"  listen: {host}:{self.cluster_port}\n"
            "  routes: [\n"
            f"{routes}\n"
            "  ]\n"
            "}\n"
            "lame_duck_duration: 30s\n"
            "lame_duck_grace_period: 10s\n"
        )


class EmbeddedNatsCluster:
    def __init__(
        self, directory: Path, size: int = CLUSTER_SIZE, host: str = "127.0.0.1", *, batch: bool = False
    ) -> None:
        self.directory = Path(directory).absolute()
        self.host = host
        cluster_ports = [free_port(host) for _ in range(size)]
        password = self.platform_password
        self.nodes: list[EmbeddedNats] = []
        for index in range(size):
            node = ClusterNode(
                name=f"nats-{index + 1}",
                cluster_port=cluster_ports[index],
                route_ports=tuple(port for i, port in enumerate(cluster_ports) if i != index),
                monitor_port=free_port(host),
            )
            store = self.directory / node.name
            self.nodes.append(
                EmbeddedNats(store, host=host, auth_callout=True, node=node, password=password, batch=batch)
            )

    @property
    def platform_password(self) -> str:
        return kept_password(self.directory)

    @property
    def url(self) -> str:
        """Every node, each with the platform user (what NATS_URL holds for the platform's processes)."""
        return ",".join(node.url for node in self.nodes)

    @property
    def address(self) -> str:
        return ",".join(node.address for node in self.nodes)

    def node(self, name: str) -> EmbeddedNats:
        """The node of a server name as JetStream reports it (a stream's leader, a replica): `nats-2`."""
        for node in self.nodes:
            if node.node is not None and node.node.name == name:
                return node
        raise KeyError(f"no node {name!r} in this cluster")

    def start(self, timeout: float = 60.0) -> None:
        for node in self.nodes:
            node.start()
        self.wait_until_healthy(timeout)

    def wait_until_healthy(self, timeout: float, nodes: list[EmbeddedNats] | None = None) -> None:
        """Until each node's /healthz is 200: JetStream has a meta leader and the node's streams are current."""
        deadline = time.monotonic() + timeout
        waiting = list(nodes or self.nodes)
        while waiting:
            waiting = [node for node in waiting if not healthy(node)]
            if not waiting:
                return
            if time.monotonic() > deadline:
                answers = "; ".join(f"{node.node.name if node.node else '?'}: {health(node)}" for node in waiting)
                raise RuntimeError(f"NATS nodes not healthy after {timeout:.0f}s ({answers}); see their nats.log")
            time.sleep(0.25)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def healthy(node: EmbeddedNats) -> bool:
    """The node's own view (its monitor's /healthz): running, in the cluster, its JetStream assets current."""
    return health(node) == "ok"


def health(node: EmbeddedNats) -> str:
    """What the node's /healthz says: "ok", or why not (the stream or consumer that is not current) for the log."""
    if not node.is_running or node.node is None:
        return "not running"
    try:
        answer = httpx.get(f"http://{node.host}:{node.node.monitor_port}/healthz", timeout=2)
    except httpx.HTTPError as error:
        return f"no answer ({error!r})"
    return "ok" if answer.status_code == 200 else f"{answer.status_code} {answer.text.strip()[:300]}"
