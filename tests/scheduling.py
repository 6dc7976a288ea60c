"""How pytest-xdist shares the suite between its workers (README, Tests): how many workers, which module goes
where, and in what order the modules are handed out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: the whole suite runs in two workers, a part of it in this process (README, Tests).

    Most of the suite's time is spent waiting on servers and on the processes the launcher's tests start, and a
    worker's tests run on servers of its own (each worker starts its own NATS, PostgreSQL and platform, which
    costs seconds: worth it for the whole suite, not for one file). PYTEST_XDIST_AUTO_NUM_WORKERS overrides it.
    """
    if count := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(count)
    whole_suite = not config.args or [Path(arg).resolve() for arg in config.args] == [
        config.rootpath / path for path in config.getini("testpaths")
    ]
    return min(2, os.cpu_count() or 1) if whole_suite else 0


# The tests that start the whole platform as processes (marked slow): one worker runs them one after another,
# and first. They are the longest part of the suite, and several platforms starting at once on two cores would
# each take minutes to become healthy.
PLATFORM_PROCESS_FILES = (
    "tests/launcher/test_backup_restore.py",
    "tests/launcher/test_up_supervises.py",
    "tests/launcher/test_cli.py",
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`: a test module goes to one worker as a whole, so its module fixtures
    start once; the platform's process tests go to one worker together (pytest-xdist's own `loadgroup` cannot be
    told so on this pytest: pytest-xdist#1386)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesAndPlatform(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "platform processes" if module in PLATFORM_PROCESS_FILES else module

    return ModulesAndPlatform(config, log)


# Then the longest modules, longest first. With `--dist loadfile` a module is a unit that one worker runs alone, and a
# long one handed out late is a tail the other worker cannot share: the cluster module (4-6 minutes), handed out in its
# alphabetical place, made a fresh clone's run 14 min 45 s. Handed out first, the two workers start with the two
# longest units and share the short modules at the end. Measured alone on the 2-core machine at a load of 9-16 (4 Dec
# 2026): cluster faults 264 s, fuzzing classes 253 s, the OpenAPI contract 95 s, code quality 60 s (mypy without a
# cache, as on a fresh clone), service killed 53 s, alerts 44 s; the other fault modules 2-31 s each.
LONGEST_MODULES = (
    "tests/faults/test_cluster_faults.py",
    "tests/security/test_fuzz_classes.py",
    "tests/e2e/test_gateway_contract.py",
    "tests/test_code_quality.py",
    "tests/faults/test_service_killed.py",
    "tests/faults/test_alerts.py",
)


def handed_out(item: pytest.Item) -> int:
    """An item's module's place in the scheduler's queue: the platform's process tests, the longest modules, the rest
    (each in collection order)."""
    module = item.nodeid.split("::", 1)[0]
    if module in PLATFORM_PROCESS_FILES:
        return 0
    if module in LONGEST_MODULES:
        return 1 + LONGEST_MODULES.index(module)
    return 1 + len(LONGEST_MODULES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a worker, the platform's process tests come first, then the longest modules: the scheduler hands out modules
    in this order (pyproject's `--no-loadscope-reorder`)."""
    if hasattr(config, "workerinput"):
        items.sort(key=handed_out)
