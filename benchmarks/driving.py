"""Driving the platform: the target under test, a tenant of its own, and the load generator's specs for the read
and write paths (the generator runs in a process of its own)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from benchmarks.loadgen import Spec


@dataclass
class Target:
    """The platform under test, and what the benchmark may know of it."""

    base_url: str
    operator_token: str
    nats_url: str | None = None
    database_dsn: str | None = None  # plain postgresql:// for asyncpg
    jwt_secret: str | None = None
    processes: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class BenchTenant:
    municipality: str
    library: str
    partner_id: str
    submit_token: str  # the referring partner
    read_token: str  # the municipality's coordinator: sees the referral, not the participant
    staff_token: str  # staff of the receiving library: sees the participant (unsealed, and the read logged)
    referral_id: str
    body: dict[str, Any]


def referral_body(library: str, partner_id: str) -> dict[str, Any]:
    return {
        "library": library,
        "referring_partner_id": partner_id,
        "contact_person": {"name": "Jan de Consulent", "email": "jan@werkplein.example"},
        "participant": {"name": "Deelnemer %N%", "birth_date": "%D%", "phone": "0612345678"},
        "needs": [{"area": "language", "level": "A2"}, {"area": "job_seeking"}],
        "reason": "Wil solliciteren; Nederlands lezen en schrijven gaat nog moeizaam",
        "preferred_channel": "phone",
        "consent": {
            "given_at": "2026-01-10T10:00:00Z",
            "given_to": [{"library": library}],
            "shares": ["contact_details", "reason", "outcome"],
            "purpose": "warme doorverwijzing naar de bibliotheek voor taal en solliciteren",
            "valid_until": "2099-01-10",
        },
    }


def tokens_for(target: Target, municipality: str, library: str, partner_id: str) -> tuple[str, str, str]:
    """Partner, coordinator and staff tokens; with only an operator token, that one for all three."""
    if target.jwt_secret is None:
        return target.operator_token, target.operator_token, target.operator_token
    from shared.tenancy import Actor, Role
    from shared.tokens import TokenIssuer

    issuer = TokenIssuer(target.jwt_secret)
    partner = issuer.issue(
        Actor(subject="bench-partner", role=Role.PARTNER, municipality=municipality, partner=partner_id)
    )
    coordinator = issuer.issue(Actor(subject="bench-coordinator", role=Role.COORDINATOR, municipality=municipality))
    staff = issuer.issue(Actor(subject="bench-staff", role=Role.STAFF, municipality=municipality, library=library))
    return partner, coordinator, staff


async def create_tenant(target: Target) -> BenchTenant:
    suffix = uuid.uuid4().hex[:8]
    municipality, library = f"bench-{suffix}", f"bench-{suffix}-bieb"
    headers = {"Authorization": f"Bearer {target.operator_token}"}
    async with httpx.AsyncClient(base_url=target.base_url, headers=headers, timeout=30) as api:
        (await api.post("/api/v1/municipalities", json={"slug": municipality, "name": "Benchmark"})).raise_for_status()
        body = {"slug": library, "municipality": municipality, "name": "Benchmarkbibliotheek"}
        (await api.post("/api/v1/libraries", json=body)).raise_for_status()
        partner = await api.post(
            "/api/v1/partners", json={"name": "Benchmark UWV", "kind": "referrer", "municipality": municipality}
        )
        partner.raise_for_status()
        partner_id = partner.json()["id"]
        submit_token, read_token, staff_token = tokens_for(target, municipality, library, partner_id)
        body = referral_body(library, partner_id)
        # The referrals service learns the library and partner from events: retry until it has.
        deadline = time.monotonic() + 60
        # Referrals need a partnership or the municipality's agreement (recorded once the partner is known there).
        while True:
            agreement = await api.post(
                "/api/v1/referrals/agreements",
                json={"partner_id": partner_id},
                headers={"Authorization": f"Bearer {read_token}"},
            )
            if agreement.status_code in (201, 409):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the referrals service never recorded the agreement: {agreement.text}")
            await asyncio.sleep(0.1)
        while True:
            first = json.loads(json.dumps(body).replace("%N%", "0").replace("%D%", "1940-01-01"))
            response = await api.post(
                "/api/v1/referrals", json=first, headers={"Authorization": f"Bearer {submit_token}"}
            )
            if response.status_code == 201:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the referrals service never accepted a referral: {response.text}")
            await asyncio.sleep(0.1)
    referral_id = response.json()["id"]
    return BenchTenant(municipality, library, partner_id, submit_token, read_token, staff_token, referral_id, body)


async def run_loadgen(spec: Spec) -> dict[str, Any]:
    """The generator runs in a process of its own, so it never shares an interpreter with what it measures."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.loadgen",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    out, _ = await process.communicate(json.dumps(spec.__dict__).encode())
    if process.returncode != 0:
        raise RuntimeError(f"the load generator failed ({process.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


def http_spec(base_url: str, path: str, **kwargs: Any) -> Spec:
    parts = urlsplit(base_url)
    return Spec(host=parts.hostname or "127.0.0.1", port=parts.port or 80, path=path, **kwargs)


def read_spec(target: Target, tenant: BenchTenant, *, connections: int, duration: float, token: str) -> Spec:
    return http_spec(
        target.base_url,
        f"/api/v1/referrals/{tenant.referral_id}",
        headers={"Authorization": f"Bearer {token}"},
        connections=connections,
        duration=duration,
    )


def write_spec(
    target: Target,
    tenant: BenchTenant,
    *,
    connections: int,
    duration: float,
    rate: float | None = None,
    warmup: float = 0.0,
) -> Spec:
    """Submissions of new people: numbered on from every submission this process had generated before
    (`Spec.first_number`), from a random start, so a benchmark run against a platform that ran one before (`--url`)
    submits new people too."""
    return http_spec(
        target.base_url,
        "/api/v1/referrals",
        method="POST",
        headers={"Authorization": f"Bearer {tenant.submit_token}"},
        body=json.dumps(tenant.body),
        connections=connections,
        duration=duration,
        warmup=warmup,
        rate=rate,
        capture="id",
        first_number=next_people(),
    )


# Each write phase's people start this far after the last phase's (`write_spec`): no phase reaches the next one's
# numbers (one at its maximum submits a few thousand), and their birth dates (the number's day among 25,000,
# `Spec.request_bytes`) start 5,000 days apart, so even their blind index features (name parts with the birth date)
# meet no earlier phase's people in the next four phases.
_PEOPLE_PER_PHASE = 1_005_000
_phases = itertools.count(random.randrange(1_000))


def next_people() -> int:
    return next(_phases) * _PEOPLE_PER_PHASE


def answered(result: dict[str, Any]) -> int:
    """Every answer of a phase, the warm-up's included: the servers' CPU measured over the whole phase is divided
    by it. (Counted over the measured window only, as `statuses` is, the warm-up's second of CPU was put on the
    window's answers: every CPU per request read 15-20% high until issue 16's seventh round, 4 Dec.)"""
    return int(result["answered"])


def step(message: str) -> None:
    print(f"  {message}", flush=True)
