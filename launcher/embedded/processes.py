"""The embedded servers' processes: a free port, the tail of a log, a stop that does not hang, and what every
embedded server says about its process (`ServerProcess`)."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self

logger = logging.getLogger(__name__)

LOG_TAIL_LINES = 40


def batch_scheduled() -> None:
    """Run in the child before it executes its program (`Popen(preexec_fn=…)`): Linux's SCHED_BATCH for it and all
    it starts (nats-server's threads, PostgreSQL's backends), at its own nice level, no privileges needed. The
    embedded NATS runs so under `up` (launcher/platform.py); PostgreSQL, the services and the gateways keep the
    normal policy (PostgreSQL batch-scheduled as well saved ~0.3 ms of CPU a referral at the maximum but doubled the
    pipeline's latency tails at half the rate: a backend woken after its commit's flush waited for a core).

    A read is a write from the gateway to nats-server, from nats-server to the service, from the service to its
    PostgreSQL backend, and back: each write wakes the server it is written to. Under the normal policy the woken
    server preempts the writer on a busy core: per read nats-server woke 2.4 times and made 5.1 system calls, and
    the referrals service was switched out 0.7 times in the middle of its loop's turn. Batch-scheduled, a server
    waits until the writer blocks or its slice ends, and then handles what came meanwhile in one go: nats-server
    0.7 wake-ups and 2.1 system calls per read, the referrals service switched out 0.07 times, the gateways' system
    calls per read 6.4 → 3.8, and a read ~25% less CPU over all processes (0.34-0.36 ms against 0.46-0.49 on the
    2-core machine). On an idle core a woken server still runs at once.
    """
    os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


# Where `free_port` looks first: from here up to the kernel's ephemeral range (Linux: 32768 by default).
FIRST_CHOSEN_PORT = 20000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (another listener may still take it before the server binds it), chosen
    below the kernel's ephemeral range where there is room.

    Not port 0's answer: the kernel hands that from the ephemeral range, the range every outgoing connection's local
    port also comes from, so between the choice and the server's bind any connection on the machine could take it.
    A full run lost the NATS cluster's fault tests so ("Error listening on router port: 58841 … address already in
    use", the other worker busy with its own connections). Below the range only a listener can take a port, and
    each pick is random, so two runs choosing at once rarely meet."""
    first_ephemeral = ephemeral_ports_start()
    if first_ephemeral - FIRST_CHOSEN_PORT >= 1000:
        for _ in range(100):
            port = FIRST_CHOSEN_PORT + secrets.randbelow(first_ephemeral - FIRST_CHOSEN_PORT)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((host, port))
                except OSError:  # someone listens there
                    continue
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def ephemeral_ports_start() -> int:
    """The first port of the kernel's range for outgoing connections (0 where it cannot be read: no room below)."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def running_pid(pidfile: Path, name: bytes) -> int | None:
    """The pid a server's pid file names, if that process runs and is `name` (its command line says so): after a
    crash the pid may have been given to an unrelated process, which must not be mistaken for the server."""
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it runs, as another user
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid  # no /proc to ask: it runs
    return pid if name in cmdline else None


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"<no log at {path}>"
    return "\n".join(text.splitlines()[-lines:])


def terminate(proc: subprocess.Popen[bytes], sig: signal.Signals, grace: float) -> None:
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


class ServerProcess:
    """An embedded server's subprocess: whether it runs, how it ended, its pid, and `with` to start and stop it."""

    _proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

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
