"""The run's own temporary directory, and no process of the run left behind it.

Every run (each pytest-xdist worker inside it) keeps its temporary files, and so the embedded servers' data, in a
directory of its own; when the run ends, no process that names that directory may still be running.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from launcher.embedded.postgres_server import SOCKET_DIRECTORY_PREFIX
from tests.processes import processes_using

_OWN_BASETEMP_ATTR = "_partnernet_own_basetemp"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Every run keeps its temporary files (and so the embedded servers' data) in a directory of its own.

    pytest's default /tmp/pytest-of-<user> is shared by every run of that user, and each new run tightens
    it to 0700: the embedded PostgreSQL, which runs as a system user of its own when the tests run as
    root, then loses its data directory under a run that is still going. A directory of our own is
    never touched by another run, and it goes away with this run, as does every file the run writes.
    """
    worker = hasattr(config, "workerinput")  # a pytest-xdist worker: its basetemp is a folder of the run's own
    if config.option.basetemp is None and not worker:
        own = tempfile.mkdtemp(prefix="partnernet-tests-")
        config.option.basetemp = own
        setattr(config, _OWN_BASETEMP_ATTR, own)
    # Settings() without a data directory would write generated secrets into ./.partnernet of the checkout.
    # Each worker its own: two workers writing one folder's generated secrets at once could read half a file.
    data_dir = str(Path(config.option.basetemp or tempfile.gettempdir()) / "data")
    if worker:
        os.environ["PARTNERNET_DATA_DIR"] = data_dir
    else:
        os.environ.setdefault("PARTNERNET_DATA_DIR", data_dir)
    # Hypothesis (and schemathesis on it) keeps its caches in ./.hypothesis of the checkout unless told otherwise.
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(Path(data_dir).parent / "hypothesis")


@pytest.hookimpl(trylast=True)  # after pytest-xdist has stopped its workers (and they their servers)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run leaves no process behind: every server and platform process of this run has stopped by now (the
    fixtures that started them have stopped them). One that has not is a defect of the test that started it:
    it is named, stopped, and the run fails."""
    own = getattr(session.config, _OWN_BASETEMP_ATTR, None)
    if own is None:
        return
    deadline = time.monotonic() + 10  # stops already asked for may still be under way
    while (left := processes_using(own)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not left:
        return
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # A PostgreSQL killed here cannot remove its socket directory, which lies outside the run's own (a short path in
    # /tmp, launcher/embedded/postgres_server.py): removed for it.
    for cmdline in left.values():
        if (sockets := postgres_socket_directory(cmdline)) is not None:
            shutil.rmtree(sockets, ignore_errors=True)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["", f"{len(left)} process(es) of this run were still running after it and were killed:"]
    lines += [f"  {pid}: {cmdline[:300]}" for pid, cmdline in left.items()]
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def postgres_socket_directory(cmdline: str) -> Path | None:
    """The socket directory an embedded PostgreSQL was started with (`-k /tmp/pnpg-…`), if this is one."""
    words = cmdline.split()
    for flag, value in itertools.pairwise(words):
        if flag == "-k" and Path(value).name.startswith(SOCKET_DIRECTORY_PREFIX):
            return Path(value)
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    if own := getattr(config, _OWN_BASETEMP_ATTR, None):
        shutil.rmtree(own, ignore_errors=True)
