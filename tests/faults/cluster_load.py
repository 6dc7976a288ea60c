"""A steady stream of referral submissions through every gateway of the cluster shape, and what became of each.

Each submission carries an `Idempotency-Key`. Its first answer is kept: a 2xx, a 503/504 problem, or a dropped
connection (its gateway killed). After the fault every submission without a 2xx is sent again with the same key
and body, as a client does, until it completes; then the ledger counts referrals stored, events on the stream,
in each consumer's inbox and in the partner's feed (tests/faults/ledger.py `settle_deliveries`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats

from launcher.embedded.nats_cluster import health, healthy
from launcher.platform import Platform
from shared.messaging import event_stream_name
from tests.faults.ledger import Ledger, settle_deliveries, stored_referrals
from tests.faults.stack import FaultTenant
from tests.waiting import eventually

REFERRALS_STREAM = event_stream_name("referrals")
CLEAR_FAILURES = {503, 504}
# deploy/README.md, "A NATS node hangs": a node that is not back within a minute of resuming is killed and started.
RESUMED_NODE_PATIENCE_SECONDS = 60.0
DROPPED = "connection dropped"


@dataclass
class Submission:
    key: str
    body: dict[str, Any]
    first: int | str = 0  # the first answer's status, or DROPPED
    referral_id: str | None = None
    tries: int = 0
    seconds: float = 0.0  # how long the first answer took
    blamed: str | None = None  # what a failed first answer's problem names (`service`: nats, referrals …)


@dataclass
class SteadyLoad:
    """Submissions at `rate` a second, in turn through each gateway, none waiting for the one before."""

    tenant: FaultTenant
    gateways: list[str]
    rate: float = 8.0
    submissions: list[Submission] = field(default_factory=list)
    per_gateway: Counter[str] = field(default_factory=Counter)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _burst: int = 0

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.tenant.partner_token}"}
        limits = httpx.Limits(max_connections=50)
        # A new client per gateway, as separate clients behind a load balancer would be.
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits)
                )
                for url in self.gateways
            ]
            started = time.monotonic()
            for n in itertools.count():
                if self._stop.is_set():
                    break
                extra, self._burst = self._burst, 0
                for m in range(1 + extra):
                    submission = Submission(key=str(uuid.uuid4()), body=self.tenant.referral())
                    self.submissions.append(submission)
                    client = clients[(n + m) % len(clients)]
                    task = asyncio.create_task(self._first(client, submission))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                # Steady: the n-th submission leaves at n / rate, however long the earlier ones take.
                await asyncio.sleep(max(0.0, started + (n + 1) / self.rate - time.monotonic()))
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _first(self, client: httpx.AsyncClient, submission: Submission) -> None:
        submission.tries += 1
        self.per_gateway[str(client.base_url)] += 1
        started = time.monotonic()
        try:
            response = await client.post(
                "/api/v1/referrals", json=submission.body, headers={"Idempotency-Key": submission.key}
            )
        except httpx.TransportError as exc:
            submission.first = f"{DROPPED} ({type(exc).__name__})"
            return
        finally:
            submission.seconds = time.monotonic() - started
        submission.first = response.status_code
        if response.is_success:
            submission.referral_id = response.json()["id"]
        elif response.headers.get("content-type", "").startswith("application/problem+json"):
            submission.blamed = response.json().get("service")

    def stop(self) -> None:
        self._stop.set()

    def burst(self, extra: int) -> None:
        """`extra` submissions at once with the next one: a backlog for the consumers."""
        self._burst += extra

    async def complete_the_failed(self, gateways: list[str], *, timeout: float = 90) -> Counter[str]:
        """Send every submission without a 2xx again, same key and body, until it has one (a few at a time, in turn
        through the gateways, as clients retrying would); the retries' answers."""
        answers: Counter[str] = Counter()
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {self.tenant.partner_token}"}
        at_once = asyncio.Semaphore(16)

        async def complete(client: httpx.AsyncClient, submission: Submission, gateway: str) -> None:
            async with at_once:
                while submission.referral_id is None:
                    assert time.monotonic() < deadline, f"a retry did not complete in {timeout}s: {answers}"
                    submission.tries += 1
                    try:
                        response = await client.post(
                            f"{gateway}/api/v1/referrals",
                            json=submission.body,
                            headers={"Idempotency-Key": submission.key},
                        )
                    except httpx.TransportError:
                        answers[DROPPED] += 1
                        await asyncio.sleep(1)
                        continue
                    replayed = " replayed" if response.headers.get("idempotent-replayed") else ""
                    answers[f"{response.status_code}{replayed}"] += 1
                    if response.is_success:
                        submission.referral_id = response.json()["id"]
                    else:
                        await asyncio.sleep(1)  # 409: the first is still running; 503/504: not ready yet

        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            await asyncio.gather(
                *(complete(client, s, g) for s, g in zip(self.failed, itertools.cycle(gateways), strict=False))
            )
        return answers

    @property
    def failed(self) -> list[Submission]:
        return [s for s in self.submissions if not (isinstance(s.first, int) and 200 <= s.first < 300)]


async def count(ledger: Ledger, platform: Platform, load: SteadyLoad, before: set[str], retries: Counter[str]) -> None:
    """The fault's ledger: sent, accepted at once, failed (how), completed by retry, stored, on the stream,
    in every consumer's inbox and the partner's feed, duplicates and lost."""
    ledger.sent = len(load.submissions)
    ledger.accepted = sum(1 for s in load.submissions if s not in load.failed)
    ledger.refused = len(load.failed)
    ledger.statuses = Counter(str(s.first) for s in load.submissions)
    ledger.notes["retries"] = dict(retries)
    ledger.notes["per_gateway"] = dict(load.per_gateway)
    answered = {s.referral_id for s in load.submissions if s.referral_id}
    ledger.notes["distinct_answers"] = len(answered)
    ledger.notes["failures_name"] = dict(Counter(str(s.blamed) for s in load.failed))
    failed_after = [s.seconds for s in load.failed]
    ledger.notes["slowest_failure_s"] = round(max(failed_after), 1) if failed_after else None
    settings = platform.settings
    stored = await stored_referrals(settings.database_url) - before
    ledger.stored = len(stored)
    await settle_deliveries(ledger, settings.database_url, node_url(platform), stored, timeout=90)


def node_url(platform: Platform) -> str:
    """One running node's URL (with the platform user), for the tests' own connections."""
    assert platform.nats_cluster is not None
    return next(node.url for node in platform.nats_cluster.nodes if node.is_running and healthy(node))


async def back_after_resume(platform: Platform, name: str) -> str | None:
    """Until the node resumed from a hang reports healthy. Past the runbook's minute, the runbook's step: it is
    killed and started again (it catches up from the others), and what its /healthz last said is returned for the
    ledger; None when it came back by itself."""
    assert platform.nats_cluster is not None
    node = platform.nats_cluster.node(name)
    try:
        await asyncio.to_thread(platform.nats_cluster.wait_until_healthy, RESUMED_NODE_PATIENCE_SECONDS, [node])
        return None
    except RuntimeError:
        said = health(node)
    assert node.pid is not None
    os.kill(node.pid, signal.SIGKILL)

    async def gone() -> bool:
        return not node.is_running

    await eventually(gone, timeout=10, what=f"{name} gone after SIGKILL")
    await asyncio.to_thread(platform.restart, name)
    return said


async def stream_leader(nats_url: str, stream: str = REFERRALS_STREAM) -> str | None:
    """The server name of the stream's leader (JetStream's stream info), None while it has none."""
    try:
        nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=0)
    except Exception:
        return None
    try:
        info = await nc.jetstream(timeout=3).stream_info(stream)
        return info.cluster.leader if info.cluster else None
    except Exception:
        return None
    finally:
        await nc.close()


async def new_leader(platform: Platform, old: str, *, timeout: float = 45) -> tuple[str, float]:
    """Wait until the stream has a leader other than `old`, asked of the nodes still running; and how long."""
    assert platform.nats_cluster is not None
    started = time.monotonic()
    others = [n.url for n in platform.nats_cluster.nodes if n.node and n.node.name != old]

    async def elected() -> str | None:
        for url in others:
            leader = await stream_leader(url)
            if leader and leader != old:
                return leader
        return None

    leader = await eventually(elected, timeout=timeout, what=f"a leader of {REFERRALS_STREAM} other than {old}")
    return leader, round(time.monotonic() - started, 1)


async def all_healthy(platform: Platform, *, timeout: float = 90) -> float:
    """Until every node reports healthy (/healthz: its streams caught up) and the gateways answer 200; how long."""
    assert platform.nats_cluster is not None
    started = time.monotonic()
    await asyncio.to_thread(platform.nats_cluster.wait_until_healthy, timeout)

    async def gateways() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            for url in platform.gateway_urls:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/health")).status_code != 200:
                        return False
                    continue
                return False
        return True

    await eventually(gateways, timeout=timeout, what="both gateways and every service healthy")
    return round(time.monotonic() - started, 1)
