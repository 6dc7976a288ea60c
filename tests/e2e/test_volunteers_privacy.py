"""Volunteers', applicants' and interns' personal data over HTTP (issue 14): sealed at rest, found by name only
through keyed digests, re-sealed with a new key (retention, erasure and export: test_volunteers_retention.py).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from services.volunteers.commands import privacy
from services.volunteers.store import personal_data
from shared.clock import local_today
from shared.contracts.referrals.api.participant_data import RotateEncryption
from shared.personal_data import Sealer
from shared.tenancy import Actor, Role
from tests.e2e.volunteers_privacy_support import everything_stored, unique_person
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    call,
    volunteer_tenant,
)


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


async def test_an_applicants_and_an_interns_personal_data_is_sealed_in_the_database(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    applicant = unique_person("Sanne", "Visser")
    motivation = f"Ik wil graag voorlezen {uuid.uuid4().hex[:6]}"
    applied = await call(
        platform, vt.staff_a, "POST", "/api/v1/applications", {"person": applicant, "motivation": motivation}
    )
    intern = unique_person("Daan", "Bakker")
    supervisor = unique_person("Marieke", "Smit")
    registered = await call(
        platform,
        vt.school_token,
        "POST",
        "/api/v1/interns",
        {
            "library": vt.library_a,
            "school_partner_id": vt.school,
            "person": intern,
            "starts_on": str(local_today()),
            "ends_on": str(local_today() + timedelta(days=90)),
            "supervisor": supervisor,
            "learning_goals": ["klantcontact"],
        },
    )
    assert registered.get("person") == intern, registered

    # The library's staff read them as they were given ...
    seen = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{applied['id']}")
    assert seen["person"] == applicant and seen["motivation"] == motivation
    intern_seen = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{registered['id']}")
    assert intern_seen["internship"]["supervisor"] == supervisor
    # ... and nothing of it is in clear in any table, nor the e-mail address in another case.
    stored = await everything_stored(platform)
    secrets = [*applicant.values(), motivation, *intern.values(), *supervisor.values()]
    secrets += [applicant["email"].lower(), applicant["name"].split()[1].lower()]
    assert [secret for secret in secrets if secret in stored] == []


async def test_staff_find_volunteers_by_whole_parts_of_the_name(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    tag = uuid.uuid4().hex[:6]
    wanted = await call(
        platform, vt.staff_a, "POST", "/api/v1/applications", {"person": {"name": f"Piet de Vries{tag}"}}
    )
    other = await call(platform, vt.staff_a, "POST", "/api/v1/applications", {"person": {"name": f"Piet Jansen{tag}"}})

    async def found(token: str, name: str) -> Any:
        return await call(platform, token, "GET", "/api/v1/volunteers", name=name)

    assert [v["id"] for v in (await found(vt.staff_a, f"VRIES{tag}"))["items"]] == [wanted["id"]]
    assert [v["id"] for v in (await found(vt.staff_a, f"vries{tag}, piet"))["items"]] == [wanted["id"]]
    both = {v["id"] for v in (await found(vt.staff_a, f"Piet Vries{tag} "))["items"]}
    assert both == {wanted["id"]}
    assert {v["id"] for v in (await found(vt.staff_a, f"jansen{tag}"))["items"]} == {other["id"]}
    assert (await found(vt.staff_a, f"vri{tag}"))["items"] == [], "whole parts only: no prefixes to probe with"
    # Another library's staff find nobody of library A; a coordinator, who sees no names, may not search them.
    assert (await found(vt.staff_b, f"vries{tag}"))["items"] == []
    refused = await found(vt.coordinator, f"vries{tag}")
    assert refused.status_code == 403
    refused = await found(vt.organisation_token, f"vries{tag}")
    assert refused.status_code == 403


async def test_a_changed_name_is_found_by_the_new_name_only(platform: RunningPlatform, vt: VolunteerTenant) -> None:
    tag = uuid.uuid4().hex[:6]
    applied = await call(platform, vt.staff_a, "POST", "/api/v1/applications", {"person": {"name": f"Els Kok{tag}"}})
    changed = await call(
        platform,
        vt.staff_a,
        "PATCH",
        f"/api/v1/volunteers/{applied['id']}",
        {"person": {"name": f"Els Bos{tag}", "email": "els@example.org"}},
    )
    assert changed["person"]["name"] == f"Els Bos{tag}", changed
    assert (await call(platform, vt.staff_a, "GET", "/api/v1/volunteers", name=f"kok{tag}"))["items"] == []
    (hit,) = (await call(platform, vt.staff_a, "GET", "/api/v1/volunteers", name=f"bos{tag}"))["items"]
    assert hit["id"] == applied["id"]


async def test_the_same_address_however_typed_has_one_digest_for_duplicate_checks(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    person = unique_person("Noor", "Jansen")
    first = await call(platform, vt.staff_a, "POST", "/api/v1/applications", {"person": person})
    vault = personal_data.PersonVault(platform.settings.encryption_key, platform.settings.blind_index_key)
    async with platform.services["volunteers"].sessions() as session:
        same = await personal_data.with_email(session, vault, vt.library_a, f"  {person['email'].upper()} ")
        elsewhere = await personal_data.with_email(session, vault, vt.library_b, person["email"])
    assert [str(row.id) for row in same] == [first["id"]]
    assert elsewhere == []


async def test_a_row_written_in_clear_before_sealing_is_sealed_by_the_sweep(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    applied = await call(platform, vt.staff_a, "POST", "/api/v1/applications", {"person": {"name": "Nog Leeg"}})
    clear_name = f"Oud Register{uuid.uuid4().hex[:6]}"
    v = personal_data.volunteers
    runtime = platform.services["volunteers"]
    async with runtime.sessions.begin() as session:  # as a version before migration 003 left it
        await session.execute(
            v.update()
            .where(v.c.id == uuid.UUID(applied["id"]))
            .values(name=clear_name, email="oud@example.org", person_sealed=None, email_digest=None)
        )
    vault = personal_data.PersonVault(platform.settings.encryption_key, platform.settings.blind_index_key)
    sealed = await privacy.seal_clear_rows(runtime.unit_of_work, vault)  # what the periodic job runs
    assert sealed >= 1
    assert clear_name not in await everything_stored(platform)
    seen = await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{applied['id']}")
    assert seen["person"] == {"name": clear_name, "email": "oud@example.org", "phone": None}
    (hit,) = (await call(platform, vt.staff_a, "GET", "/api/v1/volunteers", name=clear_name.split()[1]))["items"]
    assert hit["id"] == applied["id"]
    async with runtime.sessions() as session:
        row = (await session.execute(sa.select(v).where(v.c.id == uuid.UUID(applied["id"])))).one()
    assert Sealer(platform.settings.encryption_key).unseal(row.person_sealed, personal_data.SealedPerson).name == (
        clear_name
    )


async def test_rotation_reseals_with_the_new_key_so_the_old_one_can_go(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    refused = await call(platform, vt.staff_a, "POST", "/api/v1/volunteers/encryption/rotate")
    assert refused.status_code == 403
    person = unique_person("Bram", "Hendriks")
    applied = await call(platform, vt.staff_a, "POST", "/api/v1/applications", {"person": person})
    old_key, new_key = platform.settings.encryption_key, Fernet.generate_key().decode()
    runtime = platform.services["volunteers"]
    both = personal_data.PersonVault(f"{new_key},{old_key}", platform.settings.blind_index_key)
    operator = Actor(subject="op", role=Role.OPERATOR)
    result = await privacy.rotate_encryption(runtime.unit_of_work, both, operator, RotateEncryption())
    assert result.resealed >= 1
    v = personal_data.volunteers
    async with runtime.sessions() as session:
        row = (await session.execute(sa.select(v).where(v.c.id == uuid.UUID(applied["id"])))).one()
    assert Sealer(new_key).unseal(row.person_sealed, personal_data.SealedPerson).email == person["email"]
    with pytest.raises(InvalidToken):
        Sealer(old_key).unseal(row.person_sealed, personal_data.SealedPerson)
    # Back to the platform's key for the tests after this one.
    back = personal_data.PersonVault(f"{old_key},{new_key}", platform.settings.blind_index_key)
    await privacy.rotate_encryption(runtime.unit_of_work, back, operator, RotateEncryption())
    assert (await call(platform, vt.staff_a, "GET", f"/api/v1/volunteers/{applied['id']}"))["person"] == person
