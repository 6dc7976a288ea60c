"""The suite passes while another run uses the same machine (issue 20): a second pytest run started beside this one,
with embedded servers of its own, passes, and this run's servers and files are left as they were.

What broke before: pytest's default /tmp/pytest-of-<user> is shared by every run of a user and each new run tightens
it to 0700, so the embedded PostgreSQL (a system user of its own when the tests run as root) lost its data directory
under the run that was still going and PANICked (tests/session_guards.py: each run now has a directory of its own).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

REPO = Path(__file__).resolve().parents[1]
# A small part of the suite that starts its own NATS and PostgreSQL and writes through both.
SECOND_RUN = ["tests/shared/test_relay.py"]


def second_run_environment() -> dict[str, str]:
    """What a developer's second terminal has: none of this run's servers, data directory or worker settings."""
    ours = ("NATS_URL", "DATABASE_URL", "PARTNERNET_DATA_DIR", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT")
    return {key: value for key, value in os.environ.items() if key not in ours and not key.startswith("PYTEST_")}


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_a_second_run_beside_this_one_passes_and_leaves_this_runs_servers_alone(
    database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    own_directory = tmp_path_factory.getbasetemp()
    mode_before = own_directory.stat().st_mode
    engine = create_async_engine(database_url)
    broker = await nats.connect(nats_url)
    second = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",  # nothing written into the checkout
        *SECOND_RUN,
        cwd=REPO,
        env=second_run_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    answered = 0
    try:
        # This run keeps using its servers while the second starts, runs and tears down its own.
        while second.returncode is None:
            async with engine.connect() as connection:
                assert (await connection.execute(text("SELECT count(*) FROM pg_stat_activity"))).scalar_one() > 0
            await broker.flush(timeout=10)
            answered += 1
            try:
                await asyncio.wait_for(second.wait(), timeout=0.5)
            except TimeoutError:
                continue
        said = (await second.stdout.read()).decode(errors="replace") if second.stdout else ""
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
        await broker.close()
        await engine.dispose()

    # Its own end-of-run check fails it if any process it started outlived it (tests/session_guards.py).
    assert second.returncode == 0, said
    assert " passed" in said and "failed" not in said and "error" not in said.lower(), said
    assert answered > 0, "this run's servers were used while the second run ran"
    # Still ours, as it was: the data directory of this run's PostgreSQL is inside it.
    assert own_directory.stat().st_mode == mode_before
    async with create_async_engine(database_url).connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
