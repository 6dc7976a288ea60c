"""The intake over HTTP: outcomes only after an intake that took place, a decline for another reason says which,
and a participant who did not come is invited again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import pooled_tenant

OUTCOME = {"outcome": {"course_finished": True}}


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


def intake(at: datetime) -> dict[str, Any]:
    return {"intake_at": at.isoformat(), "place": "Bibliotheek Centrum", "contact_person": {"name": "Anna"}}


async def accepted(platform: RunningPlatform, tenant: Tenant) -> str:
    async with platform.client(tenant.partner_a_token) as api:
        submitted = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert submitted.status_code == 201, submitted.text
    referral_id = str(submitted.json()["id"])
    async with platform.client(tenant.staff_a) as api:
        assert (await api.post(f"/api/v1/referrals/{referral_id}/accept")).status_code == 200
    return referral_id


async def test_no_outcome_seconds_after_an_intake_planned_for_next_week(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    referral_id = await accepted(platform, tenant)
    next_week = datetime.now(UTC) + timedelta(days=7)
    async with platform.client(tenant.staff_a) as api:
        base = f"/api/v1/referrals/{referral_id}"
        assert (await api.post(f"{base}/plan-intake", json=intake(next_week))).status_code == 200
        too_soon = await api.post(f"{base}/complete", json=OUTCOME)
        not_held_yet = await api.post(f"{base}/intake-held")
        no_show_yet = await api.post(f"{base}/no-show")
        unchanged = (await api.get(base)).json()

        assert (await api.post(f"{base}/plan-intake", json=intake(datetime.now(UTC) - timedelta(hours=1)))).is_success
        held = await api.post(f"{base}/intake-held")
        completed = await api.post(f"{base}/complete", json=OUTCOME)

    assert too_soon.status_code == 409, too_soon.text
    assert too_soon.json()["state"] == "intake_planned"  # the intake must be recorded as held first
    for early in (not_held_yet, no_show_yet):
        assert early.status_code == 409, early.text
        assert early.json()["intake_at"] is not None
    assert (unchanged["status"], unchanged["version"], unchanged["intake_held_at"]) == ("intake_planned", 3, None)
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "intake_held"
    assert held.json()["intake_held_at"] is not None
    assert completed.status_code == 200, completed.text
    assert [entry["step"] for entry in completed.json()["history"]][-2:] == ["record_intake_held", "complete"]


async def test_a_decline_for_another_reason_needs_a_note(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        submitted = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    referral_id = submitted.json()["id"]
    async with platform.client(tenant.staff_a) as api:
        bare = await api.post(f"/api/v1/referrals/{referral_id}/decline", json={"reason": "other"})
        blank = await api.post(f"/api/v1/referrals/{referral_id}/decline", json={"reason": "other", "note": "  "})
        said = await api.post(
            f"/api/v1/referrals/{referral_id}/decline", json={"reason": "other", "note": "Woont buiten de gemeente"}
        )
    for refused in (bare, blank):
        assert refused.status_code == 422, refused.text
        assert "needs a note" in refused.json()["detail"]
    assert said.status_code == 200, said.text
    assert (said.json()["status"], said.json()["version"]) == ("declined", 2)  # the refusals changed nothing


async def test_a_no_show_is_invited_to_a_new_intake(platform: RunningPlatform, tenant: Tenant) -> None:
    referral_id = await accepted(platform, tenant)
    base = f"/api/v1/referrals/{referral_id}"
    async with platform.client(tenant.staff_a) as api:
        assert (await api.post(f"{base}/plan-intake", json=intake(datetime.now(UTC) - timedelta(hours=2)))).is_success
        missed = await api.post(f"{base}/no-show")
        again = await api.post(f"{base}/plan-intake", json=intake(datetime.now(UTC) + timedelta(days=3)))
    assert missed.status_code == 200, missed.text
    assert missed.json()["closed_at"] is not None
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "intake_planned"
    assert again.json()["closed_at"] is None  # open again: no retention period runs
