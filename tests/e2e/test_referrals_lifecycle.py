"""The referral's lifecycle over HTTP: every legal step, every illegal one (a 409 that changes nothing),
versions, who may take which step, both directions, and the outcome back in the referrer's feed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest

from services.referrals.commands import deadlines, lifecycle
from services.referrals.domain import TRANSITIONS, Step
from shared.contracts import Envelope
from shared.contracts.courses.events import EnrolmentConfirmed
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    PlanIntake,
    RecordIntakeHeld,
    RecordNoShow,
    ReferralStatus,
    ReferralStep,
    WithdrawReferral,
)
from shared.contracts.referrals.events import DeclineReason, WithdrawReason
from shared.ids import new_id
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import consent_body, referral_body, to_partner_body
from tests.services.referrals.conftest import (
    SECRETS,
    KnownTenant,
    envelope_of,
    event_types,
    now,
    pooled_tenant,
    publish_event,
    referral_events,
    submit_command,
    work_at,
)
from tests.services.referrals.conftest import submit as submit_use_case
from tests.waiting import eventually

S = ReferralStatus
# In the past: the steps after it (held, no-show, outcome) are about an intake that has taken place.
INTAKE = {"intake_at": "2026-05-01T10:00:00+02:00", "place": "Bibliotheek Centrum", "contact_person": {"name": "Anna"}}
OUTCOME = {
    "outcome": {
        "course_finished": True,
        "moved_to_work": True,
        "skill_levels_after": [{"area": "language", "level": "B1"}],
    }
}
# The route, the body and the side (receiving staff or referring partner) of every step people take.
ROUTES: dict[Step, tuple[str, dict[str, Any] | None, str]] = {
    Step.ACCEPT: ("accept", None, "receiver"),
    Step.DECLINE: ("decline", {"reason": "no_capacity", "note": "vol"}, "receiver"),
    Step.PLAN_INTAKE: ("plan-intake", INTAKE, "receiver"),
    Step.RECORD_INTAKE_HELD: ("intake-held", None, "receiver"),
    Step.COMPLETE: ("complete", OUTCOME, "receiver"),
    Step.MARK_NO_SHOW: ("no-show", None, "receiver"),
    Step.WITHDRAW: ("withdraw", {"reason": "no_longer_needed"}, "referrer"),
}
EVENT_OF_STEP = {
    Step.ACCEPT: "referral.accepted.v1",
    Step.DECLINE: "referral.declined.v1",
    Step.PLAN_INTAKE: "referral.intake_planned.v1",
    Step.RECORD_INTAKE_HELD: "referral.intake_held.v1",
    Step.COMPLETE: "referral.completed.v1",
    Step.MARK_NO_SHOW: "referral.no_show_recorded.v1",
    Step.WITHDRAW: "referral.withdrawn.v1",
    Step.ENROL: "referral.enrolled.v1",
    Step.EXPIRE: "referral.expired.v1",
}
# How to bring a new referral into each status.
PATH_TO: dict[ReferralStatus, list[Step]] = {
    S.SUBMITTED: [],
    S.ACCEPTED: [Step.ACCEPT],
    S.DECLINED: [Step.DECLINE],
    S.INTAKE_PLANNED: [Step.ACCEPT, Step.PLAN_INTAKE],
    S.INTAKE_HELD: [Step.ACCEPT, Step.PLAN_INTAKE, Step.RECORD_INTAKE_HELD],
    S.ENROLLED: [Step.ACCEPT, Step.PLAN_INTAKE, Step.ENROL],
    S.COMPLETED: [Step.ACCEPT, Step.PLAN_INTAKE, Step.RECORD_INTAKE_HELD, Step.COMPLETE],
    S.WITHDRAWN: [Step.WITHDRAW],
    S.NO_SHOW: [Step.ACCEPT, Step.PLAN_INTAKE, Step.MARK_NO_SHOW],
    S.EXPIRED: [Step.EXPIRE],
}


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    """A fresh tenant, one of a batch registered side by side (quicker than one at a time)."""
    return await pooled_tenant(platform)


async def submit(platform: RunningPlatform, tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post(
            "/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a, **overrides)
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def take(
    platform: RunningPlatform, token: str, referral_id: str, step: Step, headers: dict[str, str] | None = None
) -> httpx.Response:
    route, body, _ = ROUTES[step]
    async with platform.client(token) as api:
        return await api.post(f"/api/v1/referrals/{referral_id}/{route}", json=body, headers=headers or {})


def token_for(tenant: Tenant, step: Step) -> str:
    return tenant.staff_a if ROUTES[step][2] == "receiver" else tenant.partner_a_token


async def read(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> dict[str, Any]:
    async with platform.client(tenant.staff_a) as api:
        response = await api.get(f"/api/v1/referrals/{referral_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


USE_CASES: dict[Step, tuple[Any, Any]] = {
    Step.ACCEPT: (lifecycle.accept_referral, AcceptReferral()),
    Step.DECLINE: (lifecycle.decline_referral, DeclineReferral(reason=DeclineReason.NOT_OUR_OFFER)),
    Step.PLAN_INTAKE: (lifecycle.plan_intake, msgspec.convert(INTAKE, PlanIntake)),
    Step.RECORD_INTAKE_HELD: (lifecycle.record_intake_held, RecordIntakeHeld()),
    Step.COMPLETE: (lifecycle.complete_referral, msgspec.convert(OUTCOME, CompleteReferral)),
    Step.MARK_NO_SHOW: (lifecycle.record_no_show, RecordNoShow()),
    Step.WITHDRAW: (lifecycle.withdraw_referral, WithdrawReferral(reason=WithdrawReason.OTHER)),
}


async def bring_to(platform: RunningPlatform, tenant: Tenant, status: ReferralStatus) -> dict[str, Any]:
    """A new referral in `status`: set up through the use cases (quick), enrolment by event, expiry by clock.

    Returns the referral as its library's staff read it over HTTP.
    """
    known = KnownTenant(
        tenant.municipality, tenant.library_a, tenant.library_b, UUID(tenant.partner_a), UUID(tenant.partner_b)
    )
    command = submit_command(tenant.library_a, referring_partner_id=known.partner_a)
    referral_id = str((await submit_use_case(platform, known.partner_a_actor, command, now())).id)
    work, _ = work_at(platform, now())
    for step in PATH_TO[status]:
        if step is Step.ENROL:
            await enrol(platform, tenant, referral_id)
        elif step is Step.EXPIRE:
            later, _ = work_at(platform, now() + timedelta(days=31))
            assert await deadlines.expire_unanswered(later, library=tenant.library_a) >= 1
        else:
            use_case, body = USE_CASES[step]
            actor = known.staff_a if ROUTES[step][2] == "receiver" else known.partner_a_actor
            await use_case(work, actor, ReferralStep(referral_id=UUID(referral_id), command=body))
    referral = await read(platform, tenant, referral_id)
    assert referral["status"] == status.value
    return referral


async def enrol(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> None:
    referral = await read(platform, tenant, referral_id)
    confirmed = EnrolmentConfirmed(
        enrolment_id=new_id(),
        course_id=new_id(),
        session_id=None,
        participant_pseudonym=referral["participant_pseudonym"],
        referral_id=UUID(referral_id),
        municipality=tenant.municipality,
        library=tenant.library_a,
        offered_by_partner_id=None,
    )
    await publish_event(
        platform.settings.nats_url, envelope_of(confirmed, municipality=tenant.municipality, library=tenant.library_a)
    )

    async def enrolled() -> bool:
        return (await read(platform, tenant, referral_id))["status"] == S.ENROLLED.value

    await eventually(enrolled, what="the enrolment event to enrol the referral")


async def bring_all(platform: RunningPlatform, tenant: Tenant, statuses: list[ReferralStatus]) -> list[dict[str, Any]]:
    """New referrals in these statuses, side by side. Expiry sweeps the library, so it goes first, alone."""
    ids: dict[int, dict[str, Any]] = {}
    for index, status in enumerate(statuses):
        if status is S.EXPIRED:
            ids[index] = await bring_to(platform, tenant, status)
    others = [(index, status) for index, status in enumerate(statuses) if status is not S.EXPIRED]
    made = await asyncio.gather(*(bring_to(platform, tenant, status) for _, status in others))
    ids.update({index: referral_id for (index, _), referral_id in zip(others, made, strict=True)})
    return [ids[index] for index in range(len(statuses))]


async def events_by_referral(platform: RunningPlatform, tenant: Tenant) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _, raw in await referral_events(platform.settings.nats_url, tenant.municipality):
        envelope = msgspec.json.decode(raw, type=Envelope)
        found.setdefault(envelope.data["referral_id"], []).append(envelope.type.removeprefix("nl.partnernet."))
    return found


async def test_every_legal_step_is_a_new_version_a_history_entry_and_an_event(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    # Enrolment and expiry are not taken by people: bring_to takes them by event and by clock.
    legal = [(status, step, target) for (status, step), target in TRANSITIONS.items() if step in ROUTES]
    referrals = await bring_all(platform, tenant, [status for status, _, _ in legal])
    expected_events: dict[str, list[str]] = {}
    for before, (status, step, target) in zip(referrals, legal, strict=True):
        referral_id = before["id"]
        response = await take(platform, token_for(tenant, step), referral_id, step)

        assert response.status_code == 200, f"{status.value} --{step.value}--> {response.text}"
        after = response.json()
        assert after["status"] == target.value, (status, step)
        assert after["version"] == before["version"] + 1
        assert response.headers["etag"] == f'"{after["version"]}"'
        assert [entry["step"] for entry in after["history"]][-1] == step.value
        assert len(after["history"]) == len(before["history"]) + 1
        assert after["participant"] is None  # a step's answer is not a read of the person
        path = [*PATH_TO[status], step]
        expected_events[referral_id] = ["referral.submitted.v1", *(EVENT_OF_STEP[s] for s in path)]

    async def all_events_published() -> bool:
        published = await events_by_referral(platform, tenant)
        return all(published.get(referral_id) == expected for referral_id, expected in expected_events.items())

    await eventually(all_events_published, what="one event per transition, in order")


async def test_every_illegal_step_is_a_409_problem_and_changes_nothing(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    statuses = list(ReferralStatus)
    referrals = await bring_all(platform, tenant, statuses)
    for before, status in zip(referrals, statuses, strict=True):
        referral_id = before["id"]
        illegal = [step for step in ROUTES if (status, step) not in TRANSITIONS]
        responses = await asyncio.gather(
            *(take(platform, token_for(tenant, step), referral_id, step) for step in illegal)
        )
        for step, response in zip(illegal, responses, strict=True):
            assert response.status_code == 409, f"{status.value} --{step.value}--> {response.text}"
            assert response.headers["content-type"].startswith("application/problem+json")
            problem = response.json()
            assert problem["type"] == "urn:partnernet:problem:illegal-transition"
            assert (problem["status"], problem["state"], problem["step"]) == (409, status.value, step.value)
            assert f"a referral that is {status.value} cannot {step.value}" == problem["detail"]
        after = await read(platform, tenant, referral_id)
        assert (after["status"], after["version"], after["history"]) == (
            before["status"],
            before["version"],
            before["history"],
        )


async def test_a_stale_version_is_a_409_with_the_current_state(platform: RunningPlatform, tenant: Tenant) -> None:
    referral_id = (await submit(platform, tenant))["id"]
    async with platform.client(tenant.staff_a) as api:
        stale = await api.post(f"/api/v1/referrals/{referral_id}/accept", headers={"If-Match": '"2"'})
        stale_body = await api.post(f"/api/v1/referrals/{referral_id}/accept", json={"expected_version": 7})
        current = await api.post(f"/api/v1/referrals/{referral_id}/accept", json={"expected_version": 1})

    for response in (stale, stale_body):
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["type"] == "urn:partnernet:problem:conflict"
        assert (problem["current"]["status"], problem["current"]["version"]) == ("submitted", 1)
        assert problem["current"]["participant"] is None
    assert current.status_code == 200, current.text
    assert (current.json()["status"], current.json()["version"]) == ("accepted", 2)


async def test_only_the_receiving_side_answers_and_only_the_referrer_withdraws(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    referral_id = (await submit(platform, tenant))["id"]
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    cases = [
        (tenant.partner_a_token, "accept", 403),  # the referrer does not accept its own referral
        (tenant.staff_a, "withdraw", 403),  # the receiving library does not withdraw it
        (coordinator, "accept", 403),  # coordinators read; the parties act
        (tenant.staff_b, "accept", 404),  # another library does not even see it
        (tenant.partner_b_token, "withdraw", 404),
    ]
    for token, route, expected in cases:
        body = {"reason": "other"} if route == "withdraw" else None
        async with platform.client(token) as api:
            response = await api.post(f"/api/v1/referrals/{referral_id}/{route}", json=body)
        assert response.status_code == expected, (route, response.text)
    assert (await read(platform, tenant, referral_id))["version"] == 1


async def test_a_library_refers_to_a_partners_course_and_the_outcome_comes_back(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    course_id = str(new_id())
    body = to_partner_body(tenant.library_a, tenant.partner_b, course_id=course_id)
    async with platform.client(tenant.staff_a) as api:
        submitted = await api.post("/api/v1/referrals", json=body)
    assert submitted.status_code == 201, submitted.text
    referral = submitted.json()
    assert (referral["direction"], referral["referring_library"], referral["referring_partner_id"]) == (
        "to_partner",
        tenant.library_a,
        None,
    )
    referral_id = referral["id"]

    async with platform.client(tenant.staff_a) as api:
        assert (await api.post(f"/api/v1/referrals/{referral_id}/accept")).status_code == 403  # the library referred
    async with platform.client(tenant.partner_b_token) as api:
        steps = (("accept", None), ("plan-intake", INTAKE), ("intake-held", None), ("complete", OUTCOME))
        for route, step_body in steps:
            response = await api.post(f"/api/v1/referrals/{referral_id}/{route}", json=step_body)
            assert response.status_code == 200, response.text
        seen = await api.get(f"/api/v1/referrals/{referral_id}")
    assert seen.json()["participant"]["name"] == "Fatima El Amrani"  # the partner that accepted meets the person
    async with platform.client(tenant.partner_a_token) as api:
        assert (await api.get(f"/api/v1/referrals/{referral_id}")).status_code == 404
    closed = await read(platform, tenant, referral_id)
    assert closed["status"] == "completed"
    assert closed["outcome"]["moved_to_work"] is True  # the referring library sees the result

    async def completed_event() -> dict[str, Any] | None:  # the stream itself, whoever consumes it
        for _, raw in await referral_events(platform.settings.nats_url, tenant.municipality):
            envelope = msgspec.json.decode(raw, type=Envelope)
            if envelope.data["referral_id"] == referral_id and envelope.type.endswith("referral.completed.v1"):
                return envelope.data
        return None

    data = await eventually(completed_event, what="the completed event")
    assert data["referring_partner_id"] is None and data["receiving_partner_id"] == tenant.partner_b
    assert data["outcome"]["skill_levels_after"] == [{"area": "language", "level": "B1"}]
    types = await event_types(platform.settings.nats_url, tenant.municipality, UUID(referral_id))
    assert types[0] == "referral.submitted.v2"  # a library's referral: v1 cannot say there is no referring partner


async def test_the_outcome_reaches_the_referring_partners_feed(platform: RunningPlatform, tenant: Tenant) -> None:
    referral_id = (await bring_to(platform, tenant, S.INTAKE_HELD))["id"]
    assert (await take(platform, tenant.staff_a, referral_id, Step.COMPLETE)).status_code == 200

    async def completed_in_feed() -> dict[str, Any] | None:
        async with platform.client(tenant.partner_a_token) as api:
            response = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", params={"limit": 200})
        for entry in response.json()["items"]:
            if entry["data"].get("referral_id") == referral_id and "referral.completed" in entry["type"]:
                return dict(entry)
        return None

    entry = await eventually(completed_in_feed, what="the completed referral in the referrer's feed")
    assert entry["data"]["outcome"]["course_finished"] is True
    assert not any(secret in str(entry) for secret in SECRETS)


async def test_no_consent_or_expired_consent_means_no_referral_in_either_direction(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    lapsed = {"given_at": "2020-01-01T00:00:00Z", "valid_until": "2020-12-31"}
    to_library = referral_body(tenant.library_a, tenant.partner_a)
    to_partner = to_partner_body(tenant.library_a, tenant.partner_b)
    attempts = [
        (tenant.partner_a_token, {k: v for k, v in to_library.items() if k != "consent"}),
        (tenant.partner_a_token, {**to_library, "consent": consent_body(library=tenant.library_a, **lapsed)}),
        (tenant.staff_a, {k: v for k, v in to_partner.items() if k != "consent"}),
        (tenant.staff_a, {**to_partner, "consent": consent_body(partner_id=tenant.partner_b, **lapsed)}),
    ]
    for token, body in attempts:
        async with platform.client(token) as api:
            response = await api.post("/api/v1/referrals", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "urn:partnernet:problem:invalid-input"
    async with platform.client(tenant.staff_a) as api:
        assert (await api.get("/api/v1/referrals")).json()["items"] == []
