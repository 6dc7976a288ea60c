"""A mail catcher for one machine: an SMTP server (aiosmtpd) that keeps every message it is given in a Maildir.

`partnernet up` runs it as a child process (`python -m launcher.mail_catcher DIR PORT`) when no SMTP server is
configured, points the services at it, and the console shows operators what it caught (gateway/console/mail.py).
It sends nothing on: no message leaves the machine. The tests run the same catcher in a thread.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

HOST = "127.0.0.1"


class MailCatcher:
    """An SMTP server on `HOST:port` in a thread of its own, writing into the Maildir `directory`."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        directory.parent.mkdir(parents=True, exist_ok=True)
        # Messages up to 1 MiB: notices are a few lines.
        self._controller = Controller(
            Mailbox(directory), hostname=HOST, port=port, data_size_limit=1024 * 1024, ready_timeout=10.0
        )

    @property
    def address(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    directory, port = Path(argv[0]), int(argv[1])
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with MailCatcher(directory, port) as catcher:
        print(f"mail catcher: {catcher.address} into {directory}", flush=True)
        while not stop.wait(1.0):
            pass
    print("mail catcher stopped", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
