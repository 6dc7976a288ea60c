"""Real NATS and PostgreSQL servers from launcher.embedded start, serve, and keep their data across restarts."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from pathlib import Path

import asyncpg
import nats
import pytest

from launcher.embedded import EmbeddedNats, EmbeddedPostgres, free_port, processes
from launcher.embedded.processes import FIRST_CHOSEN_PORT, ephemeral_ports_start
from tests.processes import processes_using
from tests.servers import children_of
from tests.session_guards import postgres_socket_directory


def _asyncpg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def test_a_free_port_is_bindable_and_below_the_range_outgoing_connections_take_theirs_from() -> None:
    first_ephemeral = ephemeral_ports_start()
    for _ in range(20):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))  # free: a server can listen there
        if first_ephemeral - FIRST_CHOSEN_PORT >= 1000:  # Linux's default range leaves 20000-32767
            assert FIRST_CHOSEN_PORT <= port < first_ephemeral


def test_a_port_someone_listens_on_is_never_chosen_and_without_room_the_kernel_chooses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        held = taken.getsockname()[1]
        # Every pick lands on the held port until the tenth: that one is free, and is the answer.
        picks = iter([held - FIRST_CHOSEN_PORT] * 9 + [5])
        monkeypatch.setattr(processes.secrets, "randbelow", lambda _n: next(picks))
        monkeypatch.setattr(processes, "ephemeral_ports_start", lambda: held + 1)
        assert free_port() == FIRST_CHOSEN_PORT + 5
    monkeypatch.setattr(processes, "ephemeral_ports_start", lambda: 0)  # unreadable: no room below
    assert free_port() >= 1024


def test_nats_jetstream_survives_restart(tmp_path: Path) -> None:
    store = tmp_path / "nats"

    async def publish(url: str) -> int:
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            js = nc.jetstream()
            await js.add_stream(name="ORDERS", subjects=["orders.>"])
            ack = await js.publish("orders.created", b"order-1")
            return ack.seq
        finally:
            await nc.close()

    async def read_back(url: str, seq: int) -> tuple[int, bytes]:
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            js = nc.jetstream()
            info = await js.stream_info("ORDERS")
            msg = await js.get_msg("ORDERS", seq)
            return info.state.messages, msg.data or b""
        finally:
            await nc.close()

    server = EmbeddedNats(store)
    with server:
        assert server.url == f"nats://127.0.0.1:{server.port}"
        seq = asyncio.run(publish(server.url))
    assert not server.is_running

    port_before = server.port
    with server:
        assert server.port == port_before
        messages, data = asyncio.run(read_back(server.url, seq))
    assert messages == 1
    assert data == b"order-1"
    assert (store / "nats.log").exists()


async def kept_note(dsn: str) -> str:
    """The note of referral 1, as the durability tests wrote it before their server stopped or was killed."""
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("select note from referral where id = 1"))
    finally:
        await conn.close()


def test_postgres_data_survives_restart(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    assert server.url == f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/postgres"
    dsn = _asyncpg_dsn(server.url)

    async def write() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            one = await conn.fetchval("select 1")
            await conn.execute("create table referral (id int primary key, note text)")
            await conn.execute("insert into referral values (1, 'kept')")
            return int(one)
        finally:
            await conn.close()

    with server:
        assert asyncio.run(write()) == 1
    assert not server.is_running

    with server:
        assert asyncio.run(kept_note(dsn)) == "kept"
        url = server.ensure_database("partner-net")
        # Idempotent: a second call must not fail on the existing database.
        assert server.ensure_database("partner-net") == url

        async def current_db() -> str:
            conn = await asyncpg.connect(_asyncpg_dsn(url))
            try:
                return str(await conn.fetchval("select current_database()"))
            finally:
                await conn.close()

        assert asyncio.run(current_db()) == "partner-net"


def test_batch_scheduled_servers_and_what_they_start_run_batch_scheduled(tmp_path: Path) -> None:
    def policies(pid: int) -> set[int]:
        return {os.sched_getscheduler(int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir()}

    async def backend_policy(dsn: str) -> int:
        conn = await asyncpg.connect(dsn)
        try:  # the backend the server forked for this connection, while it serves it
            return os.sched_getscheduler(int(await conn.fetchval("select pg_backend_pid()")))
        finally:
            await conn.close()

    with (
        EmbeddedPostgres(tmp_path / "pg", batch=True) as postgres,
        EmbeddedNats(tmp_path / "batch", batch=True) as batch,
        EmbeddedNats(tmp_path / "plain") as plain,
    ):
        assert postgres.pid is not None and batch.pid is not None and plain.pid is not None
        assert policies(postgres.pid) == {os.SCHED_BATCH}
        assert asyncio.run(backend_policy(_asyncpg_dsn(postgres.url))) == os.SCHED_BATCH
        assert policies(batch.pid) == {os.SCHED_BATCH}  # the Go runtime's threads too, started after the policy
        assert policies(plain.pid) == {os.SCHED_OTHER}


def running(pid: int) -> bool:
    """Whether a process still runs (a zombie, exited but not yet reaped, holds nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def killed(server: EmbeddedPostgres) -> None:
    """SIGKILL the server and wait for its workers: they notice and exit, and a new server refuses to start while
    one still holds the shared memory."""
    assert server._proc is not None
    workers = children_of(server._proc.pid)
    server._proc.kill()
    server._proc.wait()
    deadline = time.monotonic() + 60
    while any(map(running, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_throwaway_postgres_skips_fsync_and_still_keeps_what_it_committed_when_killed(tmp_path: Path) -> None:
    """The tests' own servers (`durable=False`) never wait for the disk; `partnernet up`'s (the default) do. A commit
    is written before it is acknowledged all the same: the server SIGKILLed and started again still has it."""

    async def fsync_and_write(dsn: str) -> str:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("create table referral (id int primary key, note text)")
            await conn.execute("insert into referral values (1, 'kept')")
            return str(await conn.fetchval("show fsync"))
        finally:
            await conn.close()

    durable = EmbeddedPostgres(tmp_path / "durable")
    with durable:
        assert asyncio.run(fsync_and_write(_asyncpg_dsn(durable.url))) == "on"

    throwaway = EmbeddedPostgres(tmp_path / "throwaway", durable=False)
    with throwaway:
        assert asyncio.run(fsync_and_write(_asyncpg_dsn(throwaway.url))) == "off"
        killed(throwaway)  # no shutdown checkpoint: only what each commit wrote
    with throwaway:
        assert asyncio.run(kept_note(_asyncpg_dsn(throwaway.url))) == "kept"


def test_a_postgres_creates_wal_segments_without_zero_filling_them_and_recovers_what_it_committed_in_one(
    tmp_path: Path,
) -> None:
    """New WAL segments are not zero-filled (the writer that needs one would hold every commit up meanwhile); a
    commit written into such a segment is still there after the server is SIGKILLed and started again."""

    async def write_in_a_new_segment(dsn: str) -> tuple[str, str, str]:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("create table referral (id int primary key, note text)")
            before = str(await conn.fetchval("select pg_walfile_name(pg_current_wal_lsn())"))
            await conn.execute("select pg_switch_wal()")
            await conn.execute("insert into referral values (1, 'kept')")
            after = str(await conn.fetchval("select pg_walfile_name(pg_current_wal_lsn())"))
            return str(await conn.fetchval("show wal_init_zero")), before, after
        finally:
            await conn.close()

    server = EmbeddedPostgres(tmp_path / "pg")
    with server:
        setting, before, after = asyncio.run(write_in_a_new_segment(_asyncpg_dsn(server.url)))
        assert setting == "off"
        assert after != before  # the row went into a segment created after the switch
        killed(server)  # no shutdown checkpoint: recovery replays the new segment
    with server:
        assert asyncio.run(kept_note(_asyncpg_dsn(server.url))) == "kept"


def test_the_run_guard_finds_the_socket_directory_of_a_postgres_it_kills(tmp_path: Path) -> None:
    with EmbeddedPostgres(tmp_path / "pg", durable=False) as server:
        assert server.socket_dir is not None
        (command,) = [c for c in processes_using(tmp_path / "pg").values() if "-k" in c.split()]
        assert postgres_socket_directory(command) == server.socket_dir
    assert postgres_socket_directory("/usr/bin/nats-server -js -sd /tmp/x -k /tmp/elsewhere") is None
