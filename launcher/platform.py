"""The whole platform on one machine: embedded NATS and PostgreSQL (unless given), every service and the gateway.

Each component is its own process, as in production; this only supervises them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from launcher.embedded import EmbeddedNats, EmbeddedPostgres
from shared.messaging import SERVICES
from shared.servers import check_database, check_nats
from shared.settings import Settings

HEALTH_DEADLINE_SECONDS = 60.0
RUNTIME_FILE = "runtime.json"  # where `up` writes the addresses of the servers it started


class Platform:
    def __init__(
        self, *, data_dir: Path, port: int = 8000, host: str = "127.0.0.1", environ: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.host = host
        self.base_url = f"http://{host}:{port}"
        self.environ = dict(os.environ if environ is None else environ)
        self.nats: EmbeddedNats | None = None
        self.postgres: EmbeddedPostgres | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env: dict[str, str] = {}
        self.started_in = 0.0

    def __enter__(self) -> Platform:
        started = time.monotonic()
        try:
            self.start()
        except BaseException:
            self.stop()
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
        nats_url = self.environ.get("NATS_URL")
        database_url = self.environ.get("DATABASE_URL")
        # Servers named by the caller must be there now: a clear line beats a minute of silent retries.
        if nats_url:
            asyncio.run(check_nats(nats_url))
        if database_url:
            asyncio.run(check_database(database_url))
        if not nats_url:
            self.nats = EmbeddedNats(self.data_dir / "nats", auth_callout=True)  # partners get feed-only users
            self.nats.start()
            nats_url = self.nats.url
        if not database_url:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
            self.postgres.start()
            database_url = self.postgres.ensure_database("partnernet")
        self.env = {
            **self.environ,
            "NATS_URL": nats_url,
            "DATABASE_URL": database_url,
            "PARTNERNET_DATA_DIR": str(self.data_dir),
            "PARTNERNET_PORT": str(self.port),
            "PARTNERNET_HOST": self.host,
        }
        (self.data_dir / RUNTIME_FILE).write_text(
            json.dumps({"NATS_URL": nats_url, "DATABASE_URL": database_url}, indent=2)
        )
        # Migrate once before the services start, so a broken migration fails here with a clear message.
        subprocess.run(
            [sys.executable, "-m", "launcher", "migrate"], env=self.env, check=True, stdout=subprocess.DEVNULL
        )
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        commands = {name: [sys.executable, "-m", f"services.{name}"] for name in SERVICES}
        commands["gateway"] = [sys.executable, "-m", "gateway"]
        for name, command in commands.items():
            log_file = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's lifetime
            self.processes[name] = subprocess.Popen(
                command, env=self.env, stdout=log_file, stderr=log_file, start_new_session=True
            )
        self.wait_until_healthy()

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_DEADLINE_SECONDS
        last = "no answer yet"
        while time.monotonic() < deadline:
            if crashed := self.crashed():
                raise RuntimeError(f"{crashed} exited during start; see {self.data_dir / 'logs'}")
            try:
                response = httpx.get(f"{self.base_url}/health", timeout=3)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.25)
        raise RuntimeError(f"the platform did not become healthy in {HEALTH_DEADLINE_SECONDS:.0f}s: {last}")

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
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            self.postgres.stop()
