"""The embedded servers' processes: a free port, the tail of a log, a stop that does not hang, and what every
embedded server says about its process (`ServerProcess`)."""

from __future__ import annotations

import contextlib
import logging
import os
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


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago (the OS may hand it out again later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


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
