"""The platform's processes as the kernel sees them: found by command line, resident memory from /proc."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from shared.messaging import SERVICES

COMPONENTS = ("gateway", *SERVICES, "nats-server", "postgres", "postgres backend (largest)")


def component(process: str) -> str:
    """The component a launcher process belongs to: `gateway-2` is the gateway, `referrals-2` (the cluster shape's
    second replica) the referrals service."""
    name, _, number = process.rpartition("-")
    return name if name and number.isdigit() else process


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> list[str]:
    try:
        return [
            part.decode(errors="replace") for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part
        ]
    except OSError:
        return []


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def find_processes(data_dir: Path | None = None) -> dict[str, list[int]]:
    """Every partnernet component running on this machine (only those under `data_dir` for embedded servers)."""
    found: dict[str, list[int]] = {name: [] for name in COMPONENTS}
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    postmasters: list[int] = []
    for pid in pids:
        argv = _cmdline(pid)
        if not argv:
            continue
        line = " ".join(argv)
        name = _component(argv, line)
        if name in ("nats-server", "postgres") and data_dir is not None and str(data_dir) not in line:
            continue
        if name is not None:
            found[name].append(pid)
            if name == "postgres":
                postmasters.append(pid)
    backends = [pid for pid in pids if _parent(pid) in postmasters]
    found["postgres backend (largest)"] = backends
    return found


def _component(argv: list[str], line: str) -> str | None:
    if argv[0].endswith("nats-server"):
        return "nats-server"
    if argv[0].endswith("postgres") and "-D" in argv:
        return "postgres"
    if "python" not in argv[0] and not argv[0].endswith("partnernet"):
        return None
    if "-m gateway" in line or line.endswith("partnernet gateway") or " gateway --port" in line:
        return "gateway"
    for service in SERVICES:
        if f"-m services.{service}" in line or f"service {service}" in line:
            return service
    return None


def memory_snapshot(processes: dict[str, list[int]]) -> dict[str, float]:
    """Resident megabytes per component (the largest process where a component has several)."""
    snapshot: dict[str, float] = {}
    for name, pids in processes.items():
        sizes = [size for pid in pids if (size := rss_mb(pid)) is not None]
        if sizes:
            snapshot[name] = max(sizes)
    return snapshot


class MemorySampler:
    """Samples every component's RSS while load runs and keeps the peak."""

    def __init__(self, processes: dict[str, list[int]], every: float = 0.2) -> None:
        self.processes = processes
        self.every = every
        self.peak: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        for name, size in memory_snapshot(self.processes).items():
            self.peak[name] = max(size, self.peak.get(name, 0.0))

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample()
