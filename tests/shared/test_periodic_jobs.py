"""A service's periodic jobs (shared/service.py ServiceRuntime.every): when they first run, and that a failed turn
does not end them."""

from __future__ import annotations

import asyncio

from shared.service import run_periodically
from tests.waiting import eventually


class Job:
    def __init__(self, *, failing_turns: int = 0) -> None:
        self.turns = 0
        self.failing_turns = failing_turns

    async def __call__(self) -> None:
        self.turns += 1
        if self.turns <= self.failing_turns:
            raise RuntimeError(f"turn {self.turns} fails")


async def turns_after(job: Job, seconds: float, period: float, *, at_start: bool) -> int:
    task = asyncio.create_task(run_periodically("test-job", period, job, at_start=at_start))
    try:
        await asyncio.sleep(seconds)
    finally:
        task.cancel()
    return job.turns


async def test_a_job_asked_to_run_at_start_runs_at_once_the_others_after_a_period() -> None:
    # A repair such as the partners' feed consumers on fresh NATS servers should not wait a whole period.
    assert await turns_after(Job(), 0.3, period=60, at_start=True) == 1
    assert await turns_after(Job(), 0.3, period=60, at_start=False) == 0


async def test_a_failed_turn_is_logged_and_the_job_runs_again_at_its_next_turn() -> None:
    job = Job(failing_turns=2)
    task = asyncio.create_task(run_periodically("test-job", 0.05, job, at_start=True))
    try:
        await eventually(lambda: asyncio.sleep(0.05, job.turns >= 3), timeout=10, what="a third turn")
    finally:
        task.cancel()
