"""A test run leaves the checkout as it found it (issue 20): what git sees in the working tree after the run, ignored
files included, is what it saw before, but for the caches of the tools the run itself calls (pytest, ruff, mypy,
import-linter). A run that left something (generated secrets in ./.partnernet, a screenshot, a data directory) fails,
naming it. Only the run that schedules the others checks (with pytest-xdist, the controller, not each worker), and
only in a git checkout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Written by the tools a run calls, in their usual places; nothing of the platform's.
TOOL_CACHES = (".pytest_cache/", ".ruff_cache/", ".mypy_cache/", ".import_linter_cache/", ".venv/")
_BEFORE = pytest.StashKey[frozenset[str]]()


def working_tree() -> frozenset[str] | None:
    """Each new path git reports (untracked or ignored) with its state; None outside a git checkout."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        return None
    listed = subprocess.run(
        [git, "-C", str(ROOT), "status", "--porcelain", "--ignored", "--untracked-files=normal"],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        return None
    # New files only (untracked or ignored): an edit of a tracked file during a run is the developer's, not the run's.
    return frozenset(
        line
        for line in listed.stdout.splitlines()
        if line[:2] in ("??", "!!") and not any(part in line for part in (*TOOL_CACHES, "__pycache__"))
    )


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if is_controller(config) and (before := working_tree()) is not None:
        config.stash[_BEFORE] = before


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_BEFORE, None)
    if before is None or (after := working_tree()) is None:
        return
    left = sorted(after - before)
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["", "this run changed the checkout (a test run must leave it as it found it):", *(f"  {x}" for x in left)]
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
