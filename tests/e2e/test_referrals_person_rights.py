"""Rights per person over HTTP: the same person in several referrals gets one export and one erasure, found
through the blind index; staff act for their own library's referrals only, and nobody else acts at all."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.referrals.blind_index import BlindIndex
from services.referrals.commands import person as person_commands
from services.referrals.store import duplicates as duplicate_store
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import now, pooled_tenant, referral_events, vault_of, work_at
from tests.waiting import eventually

EXPORT, ERASE = "/api/v1/referrals/person/export", "/api/v1/referrals/person/erase"


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


def person() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {
        "name": f"Sanne Visser-{tag}",
        "birth_date": "1988-06-14",
        "phone": f"06{uuid.uuid4().int % 10**8:08d}",
        "email": f"sanne.{tag}@example.nl",
    }


async def refer(platform: RunningPlatform, token: str, library: str, partner: str, participant: dict[str, Any]) -> str:
    async with platform.client(token) as api:
        response = await api.post("/api/v1/referrals", json=referral_body(library, partner, participant=participant))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class People:
    """One person with two referrals at library A (one closed) and one at library B; someone else at A."""

    def __init__(self, participant: dict[str, Any], at_a: list[str], at_b: str, other: str) -> None:
        self.participant, self.at_a, self.at_b, self.other = participant, at_a, at_b, other


@pytest.fixture
async def people(platform: RunningPlatform, tenant: Tenant) -> People:
    participant = person()
    first = await refer(platform, tenant.partner_a_token, tenant.library_a, tenant.partner_a, participant)
    second = await refer(platform, tenant.partner_b_token, tenant.library_a, tenant.partner_b, participant)
    at_b = await refer(platform, tenant.partner_a_token, tenant.library_b, tenant.partner_a, participant)
    other = await refer(platform, tenant.partner_a_token, tenant.library_a, tenant.partner_a, person())
    async with platform.client(tenant.staff_a) as api:
        declined = await api.post(f"/api/v1/referrals/{first}/decline", json={"reason": "no_capacity"})
        assert declined.status_code == 200, declined.text
    async with platform.client(tenant.partner_b_token) as api:  # the partner reads the person: a party that saw
        assert (await api.get(f"/api/v1/referrals/{second}")).status_code == 200
    return People(participant, [first, second], at_b, other)


async def test_one_export_holds_all_the_persons_referrals_of_the_library_their_reads_and_parties(
    platform: RunningPlatform,
    tenant: Tenant,
    people: People,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    lookup = {"name": people.participant["name"], "birth_date": people.participant["birth_date"]}
    async with platform.client(tenant.staff_a) as api:
        by_referral = await api.post(EXPORT, json={"referral_id": people.at_a[1]})
        by_name = await api.post(EXPORT, json=lookup)
    assert by_referral.status_code == 200, by_referral.text
    export = by_referral.json()
    assert export["library"] == tenant.library_a
    # Both referrals of library A (the closed one too), neither the other library's nor someone else's.
    assert [r["id"] for r in export["referrals"]] == people.at_a
    assert all(r["participant"] == people.participant for r in export["referrals"])
    assert [h["step"] for h in export["referrals"][0]["history"]] == ["submit", "decline"]
    # Every read: the partner's view, and the export itself (one read of each referral).
    reads = [(e["referral_id"], e["purpose"], e["actor_role"]) for e in export["access_log"]]
    assert reads == [
        (people.at_a[1], "view", "partner"),
        (people.at_a[0], "export", "staff"),
        (people.at_a[1], "export", "staff"),
    ]
    parties = {(p["kind"], p["id"]): p for p in export["parties"]}
    assert set(parties) == {("library", tenant.library_a), ("partner", tenant.partner_a), ("partner", tenant.partner_b)}
    assert parties[("partner", tenant.partner_b)]["reads"] == 1
    assert parties[("partner", tenant.partner_b)]["roles"] == ["referring"]
    assert parties[("partner", tenant.partner_a)]["name"].startswith("UWV")
    assert parties[("library", tenant.library_a)]["name"] == f"Bibliotheek {tenant.library_a}"

    assert by_name.status_code == 200, by_name.text
    assert [r["id"] for r in by_name.json()["referrals"]] == people.at_a

    # No name in clear anywhere but the answer: not in a log line, not on a span.
    secrets = [people.participant["name"], people.participant["email"]]
    for record in caplog.records:
        assert not any(secret in f"{record.getMessage()} {record.__dict__}" for secret in secrets)
    for span in spans.get_finished_spans():
        values = [span.name, *(span.attributes or {}).values()]
        assert not any(secret in str(value) for value in values for secret in secrets), span.name


async def test_staff_of_another_library_export_only_their_own_referral_of_the_person(
    platform: RunningPlatform, tenant: Tenant, people: People
) -> None:
    lookup = {"name": people.participant["name"], "birth_date": people.participant["birth_date"]}
    async with platform.client(tenant.staff_b) as api:
        others = await api.post(EXPORT, json={"referral_id": people.at_a[0]})
        own = await api.post(EXPORT, json=lookup)
    assert others.status_code == 404  # another library's referral: as if it did not exist
    assert people.participant["name"] not in others.text
    assert own.status_code == 200, own.text
    assert [r["id"] for r in own.json()["referrals"]] == [people.at_b]


@pytest.mark.parametrize("who", ["partner", "coordinator", "operator", "staff elsewhere"])
async def test_nobody_but_the_librarys_staff_exports_or_erases_a_person(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant, people: People, who: str
) -> None:
    token = {
        "partner": tenant.partner_a_token,
        "coordinator": platform.token(Role.COORDINATOR, municipality=tenant.municipality),
        "operator": tenant.operator,
        "staff elsewhere": elsewhere.staff_a,
    }[who]
    lookup = {"name": people.participant["name"], "birth_date": people.participant["birth_date"]}
    async with platform.client(token) as api:
        for route in (EXPORT, ERASE):
            for body in ({"referral_id": people.at_a[0]}, lookup):
                response = await api.post(route, json=body)
                assert response.status_code in (403, 404), (route, response.text)
                assert people.participant["name"] not in response.text
                assert people.participant["email"] not in response.text
    async with platform.client(tenant.partner_b_token) as api:  # nothing was erased (its referrer still sees it)
        still = await api.get(f"/api/v1/referrals/{people.at_a[1]}")
    assert still.json()["participant"] == people.participant


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "Sanne Visser"},  # a name alone matches too many people
        {"birth_date": "1988-06-14"},
        {"referral_id": str(uuid.uuid4()), "name": "Sanne Visser", "birth_date": "1988-06-14"},
        {"name": "", "birth_date": "1988-06-14"},
        {"name": "Sanne Visser", "birth_date": "14-06-1988"},
        {"referral_id": "not-an-id"},
        {"referral_id": str(uuid.uuid4()), "is_admin": True},
    ],
)
async def test_a_lookup_that_names_no_one_person_is_refused(
    platform: RunningPlatform, tenant: Tenant, body: dict[str, Any]
) -> None:
    async with platform.client(tenant.staff_a) as api:
        for route in (EXPORT, ERASE):
            response = await api.post(route, json=body)
            assert response.status_code in (400, 422), (route, body, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_person_the_library_does_not_hold_is_not_found(platform: RunningPlatform, tenant: Tenant) -> None:
    stranger = person()
    async with platform.client(tenant.staff_a) as api:
        by_name = await api.post(EXPORT, json={"name": stranger["name"], "birth_date": stranger["birth_date"]})
        by_id = await api.post(EXPORT, json={"referral_id": str(uuid.uuid4())})
    assert (by_name.status_code, by_id.status_code) == (404, 404)


async def test_one_erasure_covers_all_the_persons_referrals_of_the_library_and_is_idempotent(
    platform: RunningPlatform, tenant: Tenant, people: People
) -> None:
    participant = people.participant
    async with platform.client(tenant.staff_a) as api:
        noted = await api.post(
            f"/api/v1/referrals/{people.at_a[1]}/accept", json={"note": f"belt {participant['phone']}"}
        )
        assert noted.status_code == 200, noted.text
        erased = await api.post(ERASE, json={"name": participant["name"], "birth_date": participant["birth_date"]})
        after = [(await api.get(f"/api/v1/referrals/{referral}")).json() for referral in people.at_a]
        again = await api.post(ERASE, json={"referral_id": people.at_a[0]})
        by_name_again = await api.post(
            ERASE, json={"name": participant["name"], "birth_date": participant["birth_date"]}
        )
    # Read as their referrer, who sees the person at every step (the libraries have not accepted them).
    async with platform.client(tenant.partner_a_token) as api:
        at_b = (await api.get(f"/api/v1/referrals/{people.at_b}")).json()
        other = (await api.get(f"/api/v1/referrals/{people.other}")).json()

    assert erased.status_code == 200, erased.text
    assert sorted(erased.json()["erased"]) == sorted(people.at_a) and erased.json()["already_erased"] == []
    for referral in after:
        assert referral["participant"] is None and referral["anonymised_at"] is not None
        # The history says what happened: an erasure on request, and where a note was, that it was erased.
        assert referral["history"][-1]["step"] == "anonymise"
        assert referral["history"][-1]["details"] == {"reason": "erasure_requested"}
        assert participant["phone"] not in str(referral)
    assert after[1]["status"] == "withdrawn" and after[1]["withdraw_reason"] == "erasure_requested"
    accepted = next(h for h in after[1]["history"] if h["step"] == "accept")
    assert accepted["note"] is None and accepted["details"]["note_erased"] is True
    assert after[0]["status"] == "declined"  # closed already: only the personal data goes
    # Another library's referral of the person and someone else's referral stay as they were.
    assert at_b["participant"] == participant
    assert other["participant"] is not None

    assert again.status_code == 200, again.text
    assert again.json()["erased"] == [] and sorted(again.json()["already_erased"]) == [people.at_a[0]]
    assert by_name_again.status_code == 404  # nothing that could find the person by name is left

    async def anonymised() -> list[dict[str, Any]] | None:
        found = [
            msgspec.json.decode(raw)
            for _, raw in await referral_events(platform.settings.nats_url, tenant.municipality)
            if b"referral.anonymised" in raw
        ]
        return found if len(found) == 2 else None

    events = await eventually(anonymised, what="one anonymised event per erased referral")
    assert sorted(e["data"]["referral_id"] for e in events) == sorted(people.at_a)
    assert all(e["data"]["participant_pseudonym"].startswith("P-") for e in events)
    raw = msgspec.json.encode(events)
    assert not any(str(value).encode() in raw for value in participant.values())


async def test_referrals_that_lost_their_exact_digest_before_it_was_kept_are_found_again(
    platform: RunningPlatform, tenant: Tenant, people: People
) -> None:
    # What the sweep did before the exact digest was kept with the data: a closed referral kept no digest at all.
    b = duplicate_store.blind_index
    async with platform.services["referrals"].sessions.begin() as session:
        await session.execute(b.delete().where(b.c.referral_id == uuid.UUID(people.at_a[0])))
    lookup = {"name": people.participant["name"], "birth_date": people.participant["birth_date"]}
    async with platform.client(tenant.staff_a) as api:
        before = await api.post(EXPORT, json=lookup)
    assert [r["id"] for r in before.json()["referrals"]] == people.at_a[1:]

    work, _ = work_at(platform, now())
    settings = platform.settings
    backfill = person_commands.ExactDigests(work, vault_of(platform), BlindIndex(settings.blind_index_key))
    assert await backfill.run() >= 1
    assert await backfill.run() == 0  # nothing due any more: a probe of an empty partial index (migration 016)
    async with platform.client(tenant.staff_a) as api:
        after = await api.post(EXPORT, json=lookup)
    assert [r["id"] for r in after.json()["referrals"]] == people.at_a


async def test_a_person_who_asks_at_the_desk_for_everything_reaches_each_other_library_that_holds_them(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant, people: People
) -> None:
    ask = "/api/v1/referrals/person/ask-other-libraries"
    body = {"referral_id": people.at_a[0], "right": "export"}
    for token, status in (
        (tenant.partner_a_token, 403),
        (platform.token(Role.COORDINATOR, municipality=tenant.municipality), 403),
        (elsewhere.staff_a, 404),
    ):
        async with platform.client(token) as api:
            assert (await api.post(ask, json=body)).status_code == status
    async with platform.client(tenant.staff_a) as api:
        asked = await api.post(ask, json=body)
        again = await api.post(ask, json=body)
        wrong = await api.post(ask, json={**body, "right": "revocation"})
        own = (await api.get("/api/v1/referrals/change-requests", params={"status": "open"})).json()["items"]
    assert asked.status_code == 200, asked.text
    assert set(asked.json()) == {"right", "asked_at"}  # which or how many libraries is not this library's to know
    assert again.status_code == 200 and wrong.status_code in (400, 422)
    assert own == []  # its own part library A does itself
    async with platform.client(tenant.staff_b) as api:
        waiting = (await api.get("/api/v1/referrals/change-requests", params={"status": "open"})).json()["items"]
        history = (await api.get(f"/api/v1/referrals/{people.at_b}")).json()["history"]
    assert [(r["referral_id"], r["kind"]) for r in waiting] == [(people.at_b, "export")]  # once, though asked twice
    asked_lines = [h["details"] for h in history if h["step"] == "participant_asked_right"]
    assert asked_lines == [{"kind": "export", "asked_at": tenant.library_a}]
