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
    it starts (PostgreSQL's backends, nats-server's threads), at its own nice level, no privileges needed.

    A read hops gateway → nats-server → referrals → PostgreSQL and back, each hop a write that wakes the next
    process. Under the normal policy a woken process preempts the one that woke it on a busy core, so on two cores
    a read cost about one forced context switch per process, and each process handled fewer messages per wake-up
    (nats-server woke twice a read). A batch process waits for the running one to block or use up its slice
    instead: with the platform's processes batch-scheduled the coordinator's read cost ~20% less CPU over all of
    them (0.33-0.35 ms against 0.42-0.43, nats-server half). Latency does not suffer where a core is free: a
    woken process still runs at once on an idle core.
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
