"""What the referrals service does with other services' events, published for real on JetStream:
the courses service's enrolment moves a referral to enrolled; a partner's suspension stops its referrals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.referrals import store
from services.referrals.commands import lifecycle, submission
from shared.contracts.courses.events import EnrolmentConfirmed
from shared.contracts.partners.events import PartnerEnded, PartnerReactivated, PartnerSuspended
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    GivenContactPerson,
    PlanIntake,
    ReferralStatus,
    ReferralStep,
    ReferralView,
)
from shared.errors import Conflict
from shared.ids import new_id
from tests.fixtures.platform import RunningPlatform
from tests.services.referrals.conftest import (
    KnownTenant,
    consumer_idle,
    envelope_of,
    event_types,
    history_steps,
    now,
    publish_event,
    referral_row,
    submit,
    submit_command,
    vault_of,
    work_at,
)
from tests.waiting import eventually

ENROLMENTS = "referrals-enrolments"


async def planned_referral(platform: RunningPlatform, known: KnownTenant) -> ReferralView:
    at = now()
    referral = await submit(
        platform, known.partner_a_actor, submit_command(known.library_a, referring_partner_id=known.partner_a), at
    )
    work, _ = work_at(platform, at)
    await lifecycle.accept_referral(
        work, known.staff_a, ReferralStep(referral_id=referral.id, command=AcceptReferral())
    )
    intake = PlanIntake(
        intake_at=at + timedelta(days=2), place="Bibliotheek Centrum", contact_person=GivenContactPerson(name="Anna")
    )
    return await lifecycle.plan_intake(work, known.staff_a, ReferralStep(referral_id=referral.id, command=intake))


def enrolment(known: KnownTenant, referral: ReferralView, **overrides: object) -> EnrolmentConfirmed:
    fields: dict[str, Any] = {
        "enrolment_id": new_id(),
        "course_id": new_id(),
        "session_id": None,
        "participant_pseudonym": referral.participant_pseudonym,
        "referral_id": referral.id,
        "municipality": known.municipality,
        "library": known.library_a,
        "offered_by_partner_id": None,
    }
    fields.update(overrides)
    return EnrolmentConfirmed(**fields)


async def status_of(platform: RunningPlatform, referral_id: UUID) -> str:
    return str((await referral_row(platform, referral_id)).status)


async def test_the_courses_enrolment_event_moves_the_referral_to_enrolled(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    referral = await planned_referral(platform, known)
    event = enrolment(known, referral)
    envelope = envelope_of(event, municipality=known.municipality, library=known.library_a)

    await publish_event(platform.settings.nats_url, envelope, "courses")
    # The same event again under another message id: the inbox keeps it to one transition.
    await publish_event(platform.settings.nats_url, envelope, "courses", msg_id=f"{envelope.id}-again")

    async def enrolled() -> bool:
        return await status_of(platform, referral.id) == ReferralStatus.ENROLLED.value

    await eventually(enrolled, what="the referral to be enrolled")
    await eventually(lambda: consumer_idle(platform.settings.nats_url, "courses", ENROLMENTS), what="both copies")
    row = await referral_row(platform, referral.id)
    assert (row.course_id, row.enrolment_id, row.version) == (event.course_id, event.enrolment_id, 4)
    assert await history_steps(platform, referral.id) == ["submit", "accept", "plan_intake", "enrol"]
    await eventually(
        lambda: _types_include(platform, known, referral.id, "referral.enrolled.v1"), what="referral.enrolled"
    )


async def test_an_enrolment_before_the_intake_is_planned_is_recorded_on_the_referral(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    at = now()
    referral = await submit(
        platform, known.partner_a_actor, submit_command(known.library_a, referring_partner_id=known.partner_a), at
    )
    work, _ = work_at(platform, at)
    await lifecycle.accept_referral(
        work, known.staff_a, ReferralStep(referral_id=referral.id, command=AcceptReferral())
    )
    event = enrolment(known, referral)
    await publish_event(
        platform.settings.nats_url, envelope_of(event, municipality=known.municipality, library=None), "courses"
    )

    async def enrolled() -> bool:
        return await status_of(platform, referral.id) == ReferralStatus.ENROLLED.value

    await eventually(enrolled, what="the accepted referral to record its enrolment")
    row = await referral_row(platform, referral.id)
    assert (row.enrolment_id, row.version) == (event.enrolment_id, 3)
    assert await history_steps(platform, referral.id) == ["submit", "accept", "enrol"]


@pytest.mark.parametrize("case", ["not-yet-accepted", "other-participant", "unknown-referral"])
async def test_an_enrolment_that_does_not_fit_changes_nothing(
    platform: RunningPlatform, known: KnownTenant, case: str
) -> None:
    at = now()
    referral = await submit(
        platform, known.partner_a_actor, submit_command(known.library_a, referring_partner_id=known.partner_a), at
    )
    work, _ = work_at(platform, at)
    if case != "not-yet-accepted":
        await lifecycle.accept_referral(
            work, known.staff_a, ReferralStep(referral_id=referral.id, command=AcceptReferral())
        )
    cases: dict[str, dict[str, Any]] = {
        "not-yet-accepted": {},
        "other-participant": {"participant_pseudonym": "P-SOMEONEELSE"},
        "unknown-referral": {"referral_id": new_id()},
    }
    overrides = cases[case]
    stray = envelope_of(enrolment(known, referral, **overrides), municipality=known.municipality, library=None)
    await publish_event(platform.settings.nats_url, stray, "courses")
    await eventually(lambda: consumer_idle(platform.settings.nats_url, "courses", ENROLMENTS), what="the event")

    row = await referral_row(platform, referral.id)
    expected = ("submitted", 1) if case == "not-yet-accepted" else ("accepted", 2)
    assert (row.status, row.version, row.enrolment_id) == (*expected, None)
    assert await history_steps(platform, referral.id) == ["submit", "accept"][: expected[1]]


async def partner_status(platform: RunningPlatform, partner_id: UUID) -> str | None:
    async with platform.services["referrals"].sessions() as session:
        row = await store.known.find_partner(session, partner_id)
    return None if row is None else str(row.status)


async def test_a_suspended_partners_new_referrals_are_refused_until_it_is_reactivated(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    url = platform.settings.nats_url
    suspended_at = datetime.now(UTC)
    suspension = PartnerSuspended(partner_id=known.partner_a, municipality=known.municipality, reason="review")
    await publish_event(url, envelope_of(suspension, municipality=known.municipality, library=None, time=suspended_at))
    await eventually(lambda: _status_is(platform, known.partner_a, "suspended"), what="the suspension to arrive")

    command = submit_command(known.library_a, referring_partner_id=known.partner_a)
    with pytest.raises(Conflict, match="is suspended") as refused:
        await submit(platform, known.partner_a_actor, command, now())
    assert refused.value.extra["partner_status"] == "suspended"
    # Staff recording it on the partner's behalf are refused as well, and nothing was written.
    with pytest.raises(Conflict):
        await submit(platform, known.staff_a, command, now())
    with pytest.raises(Conflict, match="receiving partner"):
        await submit(
            platform, known.staff_a, submit_command(known.library_a, receiving_partner_id=known.partner_a), now()
        )

    # A reactivation older than the suspension (delivered late) does not undo it; a newer one does.
    stale = PartnerReactivated(partner_id=known.partner_a, municipality=known.municipality)
    await publish_event(
        url,
        envelope_of(stale, municipality=known.municipality, library=None, time=suspended_at - timedelta(minutes=1)),
    )
    await eventually(lambda: consumer_idle(url, "partners", "referrals-partner-reactivated"), what="the stale event")
    assert await partner_status(platform, known.partner_a) == "suspended"
    await publish_event(
        url, envelope_of(stale, municipality=known.municipality, library=None, time=suspended_at + timedelta(minutes=1))
    )
    await eventually(lambda: _status_is(platform, known.partner_a, "active"), what="the reactivation")
    accepted = await submit(platform, known.partner_a_actor, command, now())
    assert accepted.status is ReferralStatus.SUBMITTED


async def test_an_ended_partner_refers_nobody(platform: RunningPlatform, known: KnownTenant) -> None:
    ended = PartnerEnded(partner_id=known.partner_b, municipality=known.municipality)
    await publish_event(platform.settings.nats_url, envelope_of(ended, municipality=known.municipality, library=None))
    await eventually(lambda: _status_is(platform, known.partner_b, "ended"), what="the end to arrive")

    work, _ = work_at(platform, now())
    with pytest.raises(Conflict, match="is ended"):
        await submission.submit_referral(
            work,
            vault_of(platform),
            known.partner_b_actor,
            submit_command(known.library_a, referring_partner_id=known.partner_b),
        )


async def _status_is(platform: RunningPlatform, partner_id: UUID, status: str) -> bool:
    return await partner_status(platform, partner_id) == status


async def _types_include(platform: RunningPlatform, known: KnownTenant, referral_id: UUID, event_type: str) -> bool:
    return event_type in await event_types(platform.settings.nats_url, known.municipality, referral_id)
