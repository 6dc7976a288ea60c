"""Optional sampling profiles of the platform's processes while a phase runs (py-spy, when it is installed)."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

# Frames worth naming in a summary: the project's own code and the libraries on the hot path.
INTERESTING = (
    "shared/",
    "services/",
    "gateway/",
    "litestar/",
    "faststream/",
    "nats/",
    "sqlalchemy/",
    "asyncpg/",
    "msgspec",
    "cryptography/",
    "opentelemetry/",
    "uvicorn/",
    "jwt/",
    "anyio/",
    "asyncio/",
)


class Profiler:
    def __init__(self, out_dir: Path, rate: int = 250) -> None:
        self.out_dir = out_dir
        self.rate = rate
        self.binary = shutil.which("py-spy")
        self._running: list[tuple[Path, subprocess.Popen[bytes]]] = []

    @property
    def available(self) -> bool:
        return self.binary is not None

    def start(self, phase: str, processes: dict[str, int], seconds: float) -> None:
        if self.binary is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in processes.items():
            output = self.out_dir / f"{phase}-{name}.txt"
            command = [
                self.binary,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, round(seconds))),
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(output),
            ]
            self._running.append(
                (output, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            )

    def finish_now(self) -> None:
        """Wait for the running recordings (each stops after its duration)."""
        for _, process in self._running:
            process.wait(timeout=120)

    def finish(self) -> list[Path]:
        outputs = []
        for output, process in self._running:
            process.wait(timeout=120)
            if output.exists() and output not in outputs:
                outputs.append(output)
        self._running.clear()
        return outputs


def summarise(collapsed: Path, top: int = 12) -> list[str]:
    """Self and inclusive shares of the sampled frames (`frame;frame;... count` lines)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += count
    if not total:
        return [f"{collapsed.name}: no samples"]
    lines = [f"{collapsed.name}: {total} samples", "  self:"]
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("  inclusive (project and hot-path libraries):")
    picked = [(f, n) for f, n in inclusive.most_common() if any(key in f for key in INTERESTING)]
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in picked[: top * 2]]
    return lines


def _short(frame: str) -> str:
    # py-spy frames look like `function (path/to/file.py:123)`; keep the function and the file's tail.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    path = path.split("site-packages/", 1)[1] if "site-packages/" in path else "/".join(path.split("/")[-3:])
    return f"{name} ({path})"
