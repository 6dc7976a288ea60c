"""The whole platform on one machine: embedded NATS and PostgreSQL (unless given), every service and the gateway.

Each component is its own process, as in production. This starts and stops them, and tells the supervisor
(launcher/supervisor.py) which have exited and why, and starts one again when it asks.

With `cluster=True` it is deploy/'s production shape: three NATS nodes in one JetStream cluster (every stream
and the idempotency bucket with three replicas, flushed to disk before each acknowledgement), two replicas of
each service and two gateways, each gateway on a port of its own as behind a load balancer.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from launcher.embedded import EmbeddedNats, EmbeddedNatsCluster, EmbeddedPostgres, free_port
from launcher.supervisor import describe_exit
from shared.messaging import SERVICES
from shared.servers import check_database, check_nats, without_password
from shared.settings import Settings

HEALTH_DEADLINE_SECONDS = 60.0
CLUSTER_REPLICAS = 2  # processes of each service, and gateways, in the cluster shape
CLUSTER_STREAM_REPLICAS = 3
RUNTIME_FILE = "runtime.json"  # where `up` writes the addresses of the servers it started
MAIL_CATCHER = "mail"  # the component that catches the platform's e-mail when no SMTP server is named
MAIL_DIR = "mail"  # its Maildir, in the data directory
LOCK_FILE = "up.lock"  # held by the `up` that runs in a data directory, for as long as it runs (`hold_data_dir`)
# "0": the embedded NATS keeps the normal scheduling policy (launcher/embedded/processes.py batch_scheduled).
BATCH_SCHEDULING = "PARTNERNET_BATCH_SCHEDULING"


class StartRefused(RuntimeError):
    """`up` cannot start as asked (its data directory in use, its port taken, a step that failed): the message says
    why, and `partnernet up` prints it as one line, not a traceback."""


class Platform:
    def __init__(
        self,
        *,
        data_dir: Path,
        port: int = 8000,
        host: str = "127.0.0.1",
        environ: dict[str, str] | None = None,
        progress: Callable[[str], None] | None = None,
        cluster: bool = False,
        health_deadline: float = HEALTH_DEADLINE_SECONDS,
        stop_asked: Callable[[], bool] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.host = host
        self.base_url = f"http://{host}:{port}"
        self.environ = dict(os.environ if environ is None else environ)
        self.cluster = cluster
        self.health_deadline = health_deadline
        # The embedded NATS batch-scheduled (launcher/embedded/processes.py batch_scheduled) unless told not to.
        # A cluster's nodes keep the normal policy: its fault tests (nodes killed, paused past their heartbeats and
        # restarted) twice found the nodes not healthy within 90 s on a loaded machine with them batch-scheduled.
        # PostgreSQL keeps the normal policy: batch-scheduled too, its backends woken after a commit's WAL flush
        # waited behind the running process, and the half-rate tails of issue 17 doubled (commit → JetStream ack
        # p99 32-95 ms against 28-30, POST → feeds.<partner> 49-74 against 31-36) for ~0.3 ms of CPU a referral.
        self.batch = self.environ.get(BATCH_SCHEDULING, "1") != "0"
        self.nats: EmbeddedNats | None = None
        self.nats_cluster: EmbeddedNatsCluster | None = None
        # Where each gateway answers: one port shared by the gateway processes, or one port each in the cluster.
        self.gateway_urls = [self.base_url, *([f"http://{host}:{port + 1}"] if cluster else [])]
        self.postgres: EmbeddedPostgres | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._commands: dict[str, list[str]] = {}
        self._log_files: dict[str, IO[bytes]] = {}
        self.env: dict[str, str] = {}
        self.mail_catcher: str | None = None  # smtp://… of the mail catcher `up` runs, if it runs one
        self._data_dir_lock: IO[str] | None = None
        self.started_in = 0.0
        # One line per step of the start, so that nobody waits in front of a silent terminal.
        self.progress = progress or (lambda _line: None)
        # Whether the caller was asked to stop (`up`: Ctrl-C or SIGTERM while starting): looked at after each step
        # and while waiting for health, where a KeyboardInterrupt leaves the start (`__enter__` stops what runs).
        self.stop_asked = stop_asked or (lambda: False)

    def __enter__(self) -> Platform:
        started = time.monotonic()
        try:
            self.start()
        except BaseException as exc:
            self.stop()
            if isinstance(exc, RuntimeError) and not isinstance(exc, StartRefused):
                # An embedded server that would not start (already running on its data, exited at once): said
                # as a refusal, its message being the operator's clue.
                raise StartRefused(str(exc)) from exc
            raise
        self.started_in = time.monotonic() - started
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Before anything starts: what would refuse the start later (the gateway's port) refuses it now, and a second
        # `up` on this data directory is refused before it starts a second server on the same stores.
        self._data_dir_lock = hold_data_dir(self.data_dir)
        for url in self.gateway_urls:
            port_is_free(self.host, httpx.URL(url).port or 0)
        nats_url = self.environ.get("NATS_URL")
        database_url = self.environ.get("DATABASE_URL")
        # Servers named by the caller must be there now: a clear line beats a minute of silent retries.
        if nats_url:
            asyncio.run(check_nats(nats_url))
            self._step_done(f"NATS: {without_password(nats_url)} (NATS_URL) answers")
        if database_url:
            asyncio.run(check_database(database_url))
            self._step_done(f"PostgreSQL: {without_password(database_url)} (DATABASE_URL) answers")
        if not nats_url and self.cluster:
            step = time.monotonic()
            self.nats_cluster = EmbeddedNatsCluster(self.data_dir / "nats-cluster")
            self.nats_cluster.start()
            nats_url = self.nats_cluster.url
            self._step_done(
                f"NATS: a cluster of {len(self.nats_cluster.nodes)} nodes at {self.nats_cluster.address}, JetStream "
                f"healthy on each ({time.monotonic() - step:.1f}s)"
            )
        if not nats_url:
            step = time.monotonic()
            store = self.data_dir / "nats"
            reused = "its streams reused" if store.exists() else "a new store"
            self.nats = EmbeddedNats(store, auth_callout=True, batch=self.batch)  # partners get feed-only users
            self.nats.start()
            nats_url = self.nats.url
            self._step_done(f"NATS: started at {self.nats.address}, {reused} ({time.monotonic() - step:.1f}s)")
        if not database_url:
            step = time.monotonic()
            cluster = self.data_dir / "postgres"
            reused = "its data reused" if (cluster / "PG_VERSION").exists() else "initialised"
            self.postgres = EmbeddedPostgres(cluster)
            self.postgres.start()
            database_url = self.postgres.ensure_database("partnernet")
            address = f"{self.postgres.host}:{self.postgres.port}"
            self._step_done(f"PostgreSQL: started at {address}, {reused} ({time.monotonic() - step:.1f}s)")
        self.env = {
            **self.environ,
            "NATS_URL": nats_url,
            "DATABASE_URL": database_url,
            # The embedded PostgreSQL's Unix socket (shared/settings.py database_socket): cheaper than loopback TCP.
            **(
                {"PARTNERNET_DATABASE_SOCKET": str(socket)}
                if self.postgres and (socket := self.postgres.socket_dir)
                else {}
            ),
            "PARTNERNET_DATA_DIR": str(self.data_dir),
            "PARTNERNET_PORT": str(self.port),
            "PARTNERNET_HOST": self.host,
        }
        if self.cluster:  # the environment may ask for other replicas (a cluster given by NATS_URL)
            self.env.setdefault("PARTNERNET_STREAM_REPLICAS", str(CLUSTER_STREAM_REPLICAS))
        (self.data_dir / RUNTIME_FILE).write_text(
            json.dumps({"NATS_URL": nats_url, "DATABASE_URL": database_url}, indent=2)
        )
        # Migrate once before the services start, so a broken migration fails here with a clear message.
        step = time.monotonic()
        # In a session of its own, as every process started here: a terminal's Ctrl-C reaches `up` alone, which notes it
        # and leaves after this step (stop_asked), not the migrations halfway with a traceback.
        self.logs.mkdir(exist_ok=True)
        migrated = subprocess.run(
            [sys.executable, "-m", "launcher", "migrate"],
            env=self.env,
            check=False,
            capture_output=True,
            text=True,
            start_new_session=True,
        )
        if migrated.returncode != 0:  # a setting a service refuses, a migration that fails: its last line says which
            log = self.logs / "migrate.log"
            log.write_text(migrated.stdout + migrated.stderr)
            raise StartRefused(f"the migrations failed: {last_log_line(log)}; see {log}")
        self._step_done(f"migrations: {migration_summary(migrated.stdout)} ({time.monotonic() - step:.1f}s)")
        self._commands = {}
        if not self.environ.get("PARTNERNET_SMTP_HOST"):
            self._start_mail_catcher()
        replicas = CLUSTER_REPLICAS if self.cluster else 1
        platform = {
            process: [sys.executable, "-m", f"services.{name}"]
            for name in SERVICES
            for process in replica_names(name, replicas)
        }
        if self.cluster:
            platform |= cluster_gateway_commands(self.port, CLUSTER_REPLICAS)
        else:
            # Several gateways share the port (SO_REUSEPORT), which is why start looked that nobody else has it.
            platform |= gateway_commands(self.settings.gateway_workers)
        self._commands.update(platform)
        for name in platform:
            self._spawn(name)
        self._step_done(f"started {', '.join(platform)}; waiting until each answers (logs in {self.logs})")
        self.wait_until_healthy()

    def _step_done(self, line: str) -> None:
        self.progress(line)
        self._leave_if_stop_asked()

    def _leave_if_stop_asked(self) -> None:
        if self.stop_asked():
            raise KeyboardInterrupt

    def _start_mail_catcher(self) -> None:
        """Without an SMTP server of the operator's, notices go to a catcher on this machine (launcher/mail_catcher.py)
        that keeps them in the data directory, where the console shows them: the whole flow on one machine, and no
        message leaves it. A supervised component like the services: it stops with them."""
        step = time.monotonic()
        port, directory = free_port(), self.data_dir / MAIL_DIR
        self.env |= {
            "PARTNERNET_SMTP_HOST": "127.0.0.1",
            "PARTNERNET_SMTP_PORT": str(port),
            "PARTNERNET_MAIL_CATCHER_DIR": str(directory),
        }
        self._commands[MAIL_CATCHER] = [sys.executable, "-m", "launcher.mail_catcher", str(directory), str(port)]
        self._spawn(MAIL_CATCHER)
        deadline = time.monotonic() + 20
        while not port_answers(port):
            if self.processes[MAIL_CATCHER].poll() is not None or time.monotonic() > deadline:
                raise StartRefused(f"the mail catcher did not start; see {self.logs / (MAIL_CATCHER + '.log')}")
            time.sleep(0.05)
        self.mail_catcher = f"smtp://127.0.0.1:{port}"
        self._step_done(
            f"mail catcher: {self.mail_catcher}, messages kept in {directory} ({time.monotonic() - step:.1f}s)"
        )

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    def _spawn(self, name: str) -> None:
        if old := self._log_files.pop(name, None):
            old.close()
        log_file = self._log_files[name] = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child's
        self.processes[name] = subprocess.Popen(
            self._commands[name], env=self.env, stdout=log_file, stderr=log_file, start_new_session=True
        )

    # --- what the supervisor asks (launcher.supervisor.Supervised) ---------------------------------------

    def components(self) -> list[str]:
        """Servers first: when NATS and a service have both stopped, NATS comes back before the service."""
        servers = [name for name, server in (("nats", self.nats), ("postgres", self.postgres)) if server]
        return self.nats_nodes() + servers + list(self._commands)

    def nats_nodes(self) -> list[str]:
        """The cluster's nodes by server name (`nats-1` …), as JetStream names a stream's leader and replicas."""
        return [node.node.name for node in self.nats_cluster.nodes if node.node] if self.nats_cluster else []

    def _server(self, name: str) -> EmbeddedNats | EmbeddedPostgres | None:
        if name in self.nats_nodes():
            assert self.nats_cluster is not None
            return self.nats_cluster.node(name)
        return {"nats": self.nats, "postgres": self.postgres}.get(name)

    def exit_reason(self, name: str) -> str | None:
        """None while the component runs; else how it ended and the last line of its log."""
        if (server := self._server(name)) is not None:
            running, returncode, log_path = server.is_running, server.returncode, server.log_path
        else:
            returncode = self.processes[name].poll()
            running, log_path = returncode is None, self.logs / f"{name}.log"
        if running:
            return None
        last = last_log_line(log_path)
        return describe_exit(returncode) + (f" (last in {log_path.name}: {last})" if last else "")

    def restart(self, name: str) -> None:
        if (server := self._server(name)) is not None:
            # Same port and store (NATS: clients reconnect, streams are where they were, a cluster's node catches
            # up from the others; PostgreSQL: crash recovery replays the WAL).
            server.start()
        else:
            self._spawn(name)

    def wait_until_healthy(self) -> None:
        started = time.monotonic()
        deadline = started + self.health_deadline
        last = "no answer yet"
        ready: set[str] = set()
        restarted: set[str] = set()
        while time.monotonic() < deadline:
            self._leave_if_stop_asked()
            if crashed := self.crashed():
                last_line = last_log_line(self.logs / f"{crashed}.log")
                if crashed in restarted:
                    raise StartRefused(f"{crashed} exited during start again ({last_line}); see {self.logs}")
                # Started once more, as the supervisor would once the platform is up: on a cluster that is still
                # forming, a process may stop at start by design (JetStream not settled within its patience,
                # shared/messaging.py while_jetstream_settles; a connection lost while it opened its bucket). A
                # second exit of the same process is a start that fails.
                self.progress(f"{crashed}: exited during start ({last_line}); starting it again")
                restarted.add(crashed)
                self._spawn(crashed)
                continue
            try:
                response = httpx.get(f"{self.base_url}/health", timeout=3)
            except httpx.HTTPError as exc:
                last = repr(exc)
            else:
                # The gateway answers first; then each service as /health finds it up, in the order they come.
                for name in ["gateway", *services_up(response)]:
                    if name not in ready:
                        ready.add(name)
                        self.progress(f"{name}: ready ({time.monotonic() - started:.1f}s)")
                others = self._other_gateways_unhealthy() if response.status_code == 200 else None
                if others == []:
                    return
                # What the failure names: the first gateway's answer, or the other gateways' that are not healthy.
                last = response.text if others is None else "; ".join(others)
            time.sleep(0.25)
        raise StartRefused(f"the platform did not become healthy in {self.health_deadline:.0f}s: {last}")

    def _other_gateways_unhealthy(self) -> list[str]:
        """Each gateway after the first that does not answer /health with 200, with what it answered."""
        unhealthy = []
        for url in self.gateway_urls[1:]:
            try:
                response = httpx.get(f"{url}/health", timeout=3)
            except httpx.HTTPError as exc:
                unhealthy.append(f"{url}: {exc!r}")
            else:
                if response.status_code != 200:
                    unhealthy.append(f"{url}: {response.status_code} {response.text}")
        return unhealthy

    def crashed(self) -> str | None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name
        return None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        for log_file in self._log_files.values():
            log_file.close()
        self._log_files.clear()
        if self.nats is not None:
            self.nats.stop()
        if self.nats_cluster is not None:
            self.nats_cluster.stop()
        if self.postgres is not None:
            self.postgres.stop()
        if self._data_dir_lock is not None:  # last: until here, processes of this `up` used the data directory
            self._data_dir_lock.close()
            self._data_dir_lock = None


def hold_data_dir(data_dir: Path) -> IO[str]:
    """The data directory for this `up` alone, for as long as the returned file stays open (an flock, let go
    however the process ends; children do not inherit it). A second `up` there started a second nats-server that
    wrote into the running one's JetStream store before PostgreSQL's own pid check refused it."""
    handle = open(data_dir / LOCK_FILE, "a+")  # noqa: SIM115 (held open: closing it lets the lock go)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "its pid unknown"
        handle.close()
        raise StartRefused(
            f"another `partnernet up` runs in {data_dir} ({holder}): stop it first, or give another --data-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def port_is_free(host: str, port: int) -> None:
    """The gateway's port must be one nobody listens on. Several gateway processes bind it with SO_REUSEPORT, which
    would also let them share it with another platform's; checked before anything starts (a plain bind fails
    where anyone has it)."""
    if not 0 < port < 65536:
        raise StartRefused(f"port {port} is not a TCP port (1-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is no user
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartRefused(f"port {port} on {host} is in use: another platform or program listens there") from exc


def gateway_processes(workers: int) -> list[str]:
    """The gateway's processes by name (`gateway`, `gateway-2` …): each its own log, restarted on its own."""
    return ["gateway", *(f"gateway-{n}" for n in range(2, workers + 1))]


def gateway_commands(workers: int) -> dict[str, list[str]]:
    """How each gateway process is started: several share the port (SO_REUSEPORT), one binds it as usual."""
    share = ["--share-port"] if workers > 1 else []
    return {name: [sys.executable, "-m", "gateway", "--name", name, *share] for name in gateway_processes(workers)}


def replica_names(service: str, replicas: int) -> list[str]:
    """A service's processes by name (`referrals`, `referrals-2` …): each its own log, restarted on its own."""
    return [service, *(f"{service}-{n}" for n in range(2, replicas + 1))]


def cluster_gateway_commands(port: int, gateways: int) -> dict[str, list[str]]:
    """The cluster shape's gateways: each binds a port of its own (`port`, `port + 1` …), as replicas behind a
    load balancer do, so a client (and a fault test) can choose one and see it go."""
    return {
        name: [sys.executable, "-m", "gateway", "--name", name, "--port", str(port + index)]
        for index, name in enumerate(gateway_processes(gateways))
    }


def port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def services_up(response: httpx.Response) -> list[str]:
    """The services a /health answer (200 or 503) says are up."""
    try:
        services = response.json().get("services", {})
    except ValueError:
        return []
    return [name for name, health in services.items() if isinstance(health, dict) and health.get("status") == "up"]


def migration_summary(printed: str) -> str:
    """`partnernet migrate` prints `<service>: <applied files, comma-separated>` or `<service>: up to date`."""
    applied = {}
    for line in printed.splitlines():
        service, _, files = line.partition(": ")
        if files and files != "up to date":
            applied[service] = len(files.split(", "))
    if not applied:
        return "every schema up to date"
    counts = ", ".join(f"{service} {count}" for service, count in applied.items())
    return f"applied {sum(applied.values())} ({counts})"


def last_log_line(path: Path, longest: int = 300) -> str:
    """The last line a component wrote before it stopped (read from the end: logs grow large)."""
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 8192))
            lines = [line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    last = lines[-1] if lines else ""
    return last if len(last) <= longest else last[: longest - 1] + "…"
