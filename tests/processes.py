"""Which processes belong to a directory of a test run: what `pytest_sessionfinish` and the launcher's tests
check is gone when they are done (a server left running keeps a port, memory and files of a finished run)."""

from __future__ import annotations

import os
from pathlib import Path


def processes_using(directory: Path | str) -> dict[int, str]:
    """Running processes (not this one) whose command line or environment names the directory: the embedded
    servers are given their data directory, and the platform's own processes inherit PARTNERNET_DATA_DIR."""
    needle = str(directory).encode()
    found: dict[int, str] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if state != "Z" and (needle in cmdline or needle in environ):
            found[int(proc.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found
