"""Lint, formatting, import rules and types are part of the test run, not a separate habit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        # services import only shared; the gateway imports no service; shared imports neither.
        ["lint-imports"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "import-rules", "mypy"],
)
# mypy over the whole repo, tests included, starts without a cache on a fresh clone: 120 s and more on a busy
# 2-core machine (a full run beside other work timed out at the suite's default 120 s).
@pytest.mark.timeout(420)
def test_tool_passes(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=400, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
