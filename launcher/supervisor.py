"""`partnernet up` keeps the platform running: a component that exits is started again, with backoff.

Every component is watched: the embedded NATS and PostgreSQL (when `up` started them), each service and the
gateway. One that exits, whatever the reason (even a clean exit: under `up` nothing should stop on its own), is
started again after a delay that doubles with each recent restart (1 s, 2 s, 4 s … up to 30 s), and the reason
(exit code or signal, the last line of its log) is reported. A component that exits again and again (more than
`max_restarts` times within `window_seconds`) is given up, and said so: the rest keep running (the gateway
answers for the services that do, its health and the overview say what is missing). The rules run on an
injected clock, so tests move time instead of waiting.
"""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Supervised(Protocol):
    """What the supervisor needs of the platform."""

    def components(self) -> list[str]: ...

    def exit_reason(self, name: str) -> str | None:
        """None while the component runs; else why it stopped."""
        ...

    def restart(self, name: str) -> None: ...


@dataclass
class Watch:
    """What the supervisor remembers of one component."""

    restarts: deque[float] = field(default_factory=deque)  # when it was restarted, within the window
    due: float | None = None  # when to start it again
    given_up: bool = False


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "stopped"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Supervisor:
    def __init__(
        self,
        platform: Supervised,
        *,
        report: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        max_restarts: int = 5,
        window_seconds: float = 120.0,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
    ) -> None:
        self.platform = platform
        self.report = report
        self.clock = clock
        self.max_restarts = max_restarts
        self.window_seconds = window_seconds
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.watches = {name: Watch() for name in platform.components()}

    def check(self) -> None:
        """Look at every component once; restart those whose time has come. Call it every half second."""
        now = self.clock()
        for name, watch in self.watches.items():
            if watch.given_up:
                continue
            if watch.due is None:
                reason = self.platform.exit_reason(name)
                if reason is None:
                    continue
                while watch.restarts and now - watch.restarts[0] > self.window_seconds:
                    watch.restarts.popleft()
                if len(watch.restarts) >= self.max_restarts:
                    watch.given_up = True
                    self.report(
                        f"{name} {reason}; it stopped {len(watch.restarts) + 1} times within "
                        f"{self.window_seconds:.0f}s: giving up on it (the rest keep running; see its log)"
                    )
                    continue
                delay = min(self.first_delay * 2 ** len(watch.restarts), self.max_delay)
                watch.due = now + delay
                self.report(f"{name} {reason}; starting it again in {delay:g}s")
                continue
            if now < watch.due:
                continue
            watch.due = None
            watch.restarts.append(now)
            try:
                self.platform.restart(name)
            except Exception as exc:  # the next check sees it stopped and tries again, later
                self.report(f"{name} did not start again: {exc!r}")
            else:
                self.report(f"{name} started again")

    @property
    def given_up(self) -> list[str]:
        return [name for name, watch in self.watches.items() if watch.given_up]
