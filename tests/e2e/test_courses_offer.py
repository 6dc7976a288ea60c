"""The municipality's course offer over HTTP: who offers and runs courses, the search, versions, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import (
    course_body,
    course_events,
    course_tenant,
    meetings,
    partnership_known_to_courses,
    published_course_with_session,
    soon,
)
from tests.waiting import eventually


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


async def create(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/courses", json=course_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def publish(api: httpx.AsyncClient, course: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"/api/v1/courses/{course['id']}/publish")
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_offer_holds_every_library_and_partner_course_and_is_searchable(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant
) -> None:
    tag = datetime.now(UTC).strftime("%H%M%S%f")
    async with platform.client(tenant.staff_a) as a, platform.client(tenant.staff_b) as b:
        language = await publish(
            a,
            await create(
                a,
                details={
                    "title": f"Taalcafé {tag}",
                    "skill_area": "language",
                    "audience": "newcomers",
                    "location": {"kind": "library_branch", "branch": "Vestiging Overvecht", "place": "Overvecht"},
                },
            ),
        )
        jobs = await publish(
            b,
            await create(b, details={"title": f"Solliciteren met de computer {tag}", "audience": "job_seekers"}),
        )
        draft = await create(a, details={"title": f"Nog niet klaar {tag}"})
        next_month = soon(30)
        scheduled = await a.post(
            f"/api/v1/courses/{language['id']}/sessions", json={"meetings": meetings(next_month), "capacity": 8}
        )
        assert scheduled.status_code == 201, scheduled.text
    async with platform.client(tenant.partner_a_token) as p:
        partners = await publish(
            p,
            await create(
                p,
                details={
                    "title": f"Rekenen in de wijk {tag}",
                    "skill_area": "numeracy",
                    "audience": "general_public",
                    "location": {"kind": "partner_premises", "address": "Kanaalweg 1", "place": "Zuilen"},
                },
            ),
        )
    assert partners["offered_by_partner_id"] == tenant.partner_a
    assert partners["library"] is None
    assert partners["offered_by"].startswith("UWV")

    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)

    async def search(token: str, **params: Any) -> list[str]:
        async with platform.client(token) as api:
            response = await api.get("/api/v1/courses", params={"limit": 200, **params})
        assert response.status_code == 200, response.text
        return [c["title"] for c in response.json()["items"] if tag in c["title"]]

    # Everyone in the municipality sees the whole offer, of both libraries and the partner; drafts only who runs them.
    everything = {language["title"], jobs["title"], partners["title"]}
    assert set(await search(tenant.partner_b_token)) == everything
    assert set(await search(tenant.staff_b)) == everything
    assert set(await search(tenant.staff_a)) == everything | {draft["title"]}
    assert set(await search(coordinator)) == everything | {draft["title"]}
    assert await search(elsewhere.staff_a) == []

    assert await search(tenant.staff_b, skill_area="language") == [language["title"]]
    assert await search(tenant.staff_b, audience="job_seekers") == [jobs["title"]]
    assert await search(tenant.staff_b, place="overvecht") == [language["title"]]
    assert await search(tenant.staff_b, place="zuilen") == [partners["title"]]
    assert await search(tenant.staff_b, offered_by_partner_id=tenant.partner_a) == [partners["title"]]
    day = next_month.date().isoformat()
    assert await search(tenant.staff_b, starts_from=day, starts_until=day) == [language["title"]]
    assert await search(tenant.staff_b, starts_from=(next_month + timedelta(days=1)).date().isoformat()) == []

    # Cursor pagination walks the offer by title without repeats or gaps.
    seen: list[str] = []
    cursor: str | None = None
    async with platform.client(tenant.staff_b) as api:
        while True:
            params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            page = (await api.get("/api/v1/courses", params=params)).json()
            seen.extend(c["title"] for c in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        invalid = await api.get("/api/v1/courses", params={"cursor": "not-a-cursor"})
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    assert everything <= set(seen)
    assert invalid.status_code == 422

    async with platform.client(tenant.staff_b) as api:
        assert (await api.get(f"/api/v1/courses/{draft['id']}")).status_code == 404
        assert (await api.get(f"/api/v1/courses/{language['id']}")).status_code == 200
    async with platform.client(elsewhere.partner_a_token) as api:
        assert (await api.get(f"/api/v1/courses/{language['id']}")).status_code == 404


async def test_a_partners_course_in_the_library_is_run_by_both_and_nobody_else(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    hosted = course_body(
        library=tenant.library_a,
        details={
            "title": "Computercursus voor senioren",
            "library_contributions": ["location", "recruitment", "promotion"],
        },
    )
    await partnership_known_to_courses(platform, tenant, tenant.partner_b, tenant.library_a)
    async with platform.client(tenant.partner_b_token) as partner:
        created = await partner.post("/api/v1/courses", json=hosted)
    assert created.status_code == 201, created.text
    course = created.json()
    assert (course["library"], course["offered_by_partner_id"]) == (tenant.library_a, tenant.partner_b)
    assert course["location"]["library"] == tenant.library_a
    assert course["library_contributions"] == ["location", "recruitment", "promotion"]
    assert course["status"] == "draft"

    async with platform.client(tenant.staff_b) as other_library:
        # A draft of someone else is out of sight.
        assert (
            await other_library.patch(f"/api/v1/courses/{course['id']}", json={"price_cents": 5})
        ).status_code == 404
    async with platform.client(tenant.staff_a) as host:
        changed = await host.patch(f"/api/v1/courses/{course['id']}", json={"volunteers_needed": 3})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["volunteers_needed"], changed.json()["version"]) == (3, 2)
        assert changed.headers["etag"] == '"2"'
    async with platform.client(tenant.partner_b_token) as partner:
        published = await partner.post(f"/api/v1/courses/{course['id']}/publish", json={"expected_version": 2})
        assert published.status_code == 200, published.text
    async with platform.client(tenant.staff_b) as other_library:
        refused = await other_library.patch(f"/api/v1/courses/{course['id']}", json={"price_cents": 5})
        assert refused.status_code == 403
    async with platform.client(tenant.partner_a_token) as other_partner:
        assert (
            await other_partner.post(f"/api/v1/courses/{course['id']}/cancel", json={"reason": "x"})
        ).status_code == 403
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    async with platform.client(coordinator) as api:
        assert (await api.post("/api/v1/courses", json=course_body())).status_code == 403
        assert (await api.get(f"/api/v1/courses/{course['id']}")).status_code == 200

    async def published_event() -> list[Any]:
        events = await course_events(platform, "course.published", tenant.municipality)
        return [e for e in events if e.data["course_id"] == course["id"]]

    (event,) = await eventually(published_event, what="course.published on JetStream")
    assert event.library == tenant.library_a
    assert event.data["offered_by_partner_id"] == tenant.partner_b
    assert event.data["volunteers_needed"] == 3
    assert event.data["library_contributions"] == ["location", "recruitment", "promotion"]


async def test_a_stale_change_is_refused_with_the_current_state(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.staff_a) as api:
        course = await create(api)
        first = await api.patch(
            f"/api/v1/courses/{course['id']}", json={"title": "Digitaal basis", "expected_version": 1}
        )
        assert first.status_code == 200, first.text
        stale = await api.patch(
            f"/api/v1/courses/{course['id']}", json={"title": "Iets anders"}, headers={"If-Match": '"1"'}
        )
        assert stale.status_code == 409
        assert stale.json()["current"]["title"] == "Digitaal basis"
        assert stale.json()["current"]["version"] == 2
        assert (await api.get(f"/api/v1/courses/{course['id']}")).json()["title"] == "Digitaal basis"


async def test_a_training_for_a_partners_staff_is_a_course_for_that_partner(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    training = {
        "title": "Laaggeletterdheid herkennen",
        "skill_area": "language",
        "audience": "partner_staff",
        "audience_partner_id": tenant.partner_a,
    }
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=12, details=training)
    async with platform.client(tenant.partner_a_token) as uwv:
        offer = (await uwv.get("/api/v1/courses", params={"audience_partner_id": tenant.partner_a})).json()
        assert [c["title"] for c in offer["items"]] == ["Laaggeletterdheid herkennen"]
        own_staff = await uwv.post(f"/api/v1/sessions/{session['id']}/enrolments", json={})
        assert own_staff.status_code == 201, own_staff.text
    async with platform.client(tenant.partner_b_token) as other:
        refused = await other.post(f"/api/v1/sessions/{session['id']}/enrolments", json={})
    assert refused.status_code == 403
    async with platform.client(tenant.staff_a) as api:
        missing_partner = await api.post(
            "/api/v1/courses", json=course_body(details={"title": "x", "audience": "partner_staff"})
        )
    assert missing_partner.status_code == 422


async def test_attendance_is_recorded_per_meeting_once_it_has_started(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    started = datetime.now(UTC) - timedelta(hours=1)
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=5, starts=started)
    async with platform.client(tenant.staff_b) as referrer:
        enrolment = (
            await referrer.post(
                f"/api/v1/sessions/{session['id']}/enrolments", json={"participant_pseudonym": "P-ATT0000001"}
            )
        ).json()
        # Whoever enrolled sees the enrolment but does not keep the register.
        assert (
            await referrer.post(
                f"/api/v1/enrolments/{enrolment['id']}/attendance", json={"meeting": 1, "present": True}
            )
        ).status_code == 403
    async with platform.client(tenant.staff_a) as api:
        present = await api.post(
            f"/api/v1/enrolments/{enrolment['id']}/attendance", json={"meeting": 1, "present": True}
        )
        assert present.status_code == 200, present.text
        assert [(m["meeting"], m["present"]) for m in present.json()["attendance"]] == [(1, True)]
        future = await api.post(
            f"/api/v1/enrolments/{enrolment['id']}/attendance", json={"meeting": 2, "present": True}
        )
        assert future.status_code == 422
        assert "has not started" in future.json()["detail"]
        no_such = await api.post(
            f"/api/v1/enrolments/{enrolment['id']}/attendance", json={"meeting": 3, "present": False}
        )
        assert no_such.status_code == 422


async def test_a_whole_register_is_recorded_in_one_request_all_or_nothing(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    started = datetime.now(UTC) - timedelta(hours=1)
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=5, starts=started)
    _, elsewhere = await published_course_with_session(platform, tenant.staff_a, capacity=5, starts=started)
    path = f"/api/v1/sessions/{session['id']}/attendance"
    async with platform.client(tenant.staff_a) as api:
        placed = [(await api.post(f"/api/v1/sessions/{session['id']}/enrolments", json={})).json() for _ in range(3)]
        other = (await api.post(f"/api/v1/sessions/{elsewhere['id']}/enrolments", json={})).json()

        async def marks() -> dict[str, list[tuple[int, bool]]]:
            listed = (await api.get(f"/api/v1/sessions/{session['id']}/enrolments")).json()["items"]
            return {e["id"]: [(m["meeting"], m["present"]) for m in e["attendance"]] for e in listed}

        def register(meeting: int, *extra: dict[str, Any]) -> dict[str, Any]:
            rows = [
                {"enrolment_id": e["id"], "present": n != 1, "expected_version": e["version"]}
                for n, e in enumerate(placed)
            ]
            return {"meeting": meeting, "marks": rows + list(extra)}

        nothing: dict[str, list[Any]] = {e["id"]: [] for e in placed}
        refusals = {
            "someone of another session": (
                register(1, {"enrolment_id": other["id"], "present": True}),
                422,
                "$.marks[3]",
            ),
            "someone twice": (register(1, {"enrolment_id": placed[0]["id"], "present": False}), 422, "$.marks[3]"),
            "a meeting not begun": (register(2), 422, "has not started"),
            "no such meeting": (register(3), 422, None),
            "nobody": ({"meeting": 1, "marks": []}, 400, None),
            "a field unknown": (
                {"meeting": 1, "marks": [{"enrolment_id": placed[0]["id"], "present": True, "late": True}]},
                400,
                None,
            ),
        }
        for what, (body, status, said) in refusals.items():
            refused = await api.post(path, json=body)
            assert refused.status_code in (status, 422), (what, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json"), what
            if said:
                assert said in refused.json()["detail"], (what, refused.json())
            assert await marks() == nothing, what  # all or nothing: nobody was recorded
        stale = register(1)
        stale["marks"][2]["expected_version"] = placed[2]["version"] + 5
        conflict = await api.post(path, json=stale)
        assert conflict.status_code == 409, conflict.text
        assert await marks() == nothing

        recorded = await api.post(path, json=register(1))
        assert recorded.status_code == 200, recorded.text
        assert [e["id"] for e in recorded.json()["enrolments"]] == [e["id"] for e in placed]
        assert await marks() == {
            placed[0]["id"]: [(1, True)],
            placed[1]["id"]: [(1, False)],
            placed[2]["id"]: [(1, True)],
        }
        again = await api.post(path, json=register(1))  # the versions seen before the register was kept
        assert again.status_code == 409
    async with platform.client(tenant.staff_b) as referrer:  # whoever enrolled does not keep the register
        assert (await referrer.post(path, json=register(1))).status_code in (403, 404)

    async def one_event_each() -> bool:
        events = await course_events(platform, "attendance.recorded", tenant.municipality)
        return sorted(e.data["enrolment_id"] for e in events if e.data["session_id"] == session["id"]) == sorted(
            e["id"] for e in placed
        )

    await eventually(one_event_each, what="one attendance event per person recorded, none of the refusals")


async def test_cancelling_a_course_takes_its_sessions_and_enrolments_with_it(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    course, session = await published_course_with_session(platform, tenant.staff_a, capacity=1)
    async with platform.client(tenant.staff_a) as api:
        placed = (await api.post(f"/api/v1/sessions/{session['id']}/enrolments", json={})).json()
        cancelled = await api.post(f"/api/v1/courses/{course['id']}/cancel", json={"reason": "geen docent"})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert (await api.get(f"/api/v1/sessions/{session['id']}")).json()["status"] == "cancelled"
        assert (await api.get(f"/api/v1/enrolments/{placed['id']}")).json()["status"] == "cancelled"
        again = await api.post(f"/api/v1/courses/{course['id']}/publish")
    assert again.status_code == 409
    assert again.json()["type"] == "urn:partnernet:problem:illegal-transition"

    async def cancellation_published() -> list[Any]:
        events = await course_events(platform, "enrolment.cancelled", tenant.municipality)
        return [e for e in events if e.data["enrolment_id"] == placed["id"]]

    (event,) = await eventually(cancellation_published, what="enrolment.cancelled on JetStream")
    assert event.data["was"] == "confirmed"
