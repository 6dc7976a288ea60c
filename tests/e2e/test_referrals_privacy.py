"""The participant's personal data over HTTP: in no event, log line or span; every read in the access log;
export and erasure for the library's staff (erasure leaves nothing in the database); key rotation."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.referrals import store
from services.referrals.commands import privacy
from services.referrals.store.personal_data import ParticipantVault
from shared.contracts.referrals.api.participant_data import RotateEncryption
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import event_types, now, pooled_tenant, referral_events, referral_row, work_at
from tests.waiting import eventually

INTAKE = {"intake_at": "2030-05-01T10:00:00+02:00", "place": "Bibliotheek Centrum", "contact_person": {"name": "Anna"}}


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    """A fresh tenant, one of a batch registered side by side (quicker than one at a time)."""
    return await pooled_tenant(platform)


def someone() -> tuple[dict[str, Any], list[str]]:
    """A participant of this test alone, and the strings that would give them away."""
    tag = uuid.uuid4().hex[:8]
    name, phone, email = f"Noor Zwart-{tag}", f"06{uuid.uuid4().int % 10**8:08d}", f"noor.{tag}@example.nl"
    return {"name": name, "birth_date": "1979-11-23", "phone": phone, "email": email}, [name, phone, email]


async def submit_for(platform: RunningPlatform, tenant: Tenant, participant: dict[str, Any], **extra: Any) -> str:
    body = referral_body(tenant.library_a, tenant.partner_a, participant=participant, **extra)
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_personal_data_is_in_no_event_log_line_or_span(
    platform: RunningPlatform, tenant: Tenant, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    participant, secrets = someone()
    referral_id = await submit_for(platform, tenant, participant)
    async with platform.client(tenant.staff_a) as api:
        for route, body in (("accept", None), ("plan-intake", INTAKE)):
            assert (await api.post(f"/api/v1/referrals/{referral_id}/{route}", json=body)).status_code == 200
        seen = await api.get(f"/api/v1/referrals/{referral_id}")  # accepted: the library sees who it is
        exported = await api.get(f"/api/v1/referrals/{referral_id}/export")
        erased = await api.post(f"/api/v1/referrals/{referral_id}/erase")
    assert seen.json()["participant"]["phone"] == participant["phone"]  # it was there to leak
    assert exported.json()["referral"]["participant"]["name"] == participant["name"]
    assert erased.status_code == 200

    async def all_events() -> list[bytes] | None:
        wanted = {
            "referral.submitted.v1",
            "referral.accepted.v1",
            "referral.intake_planned.v1",
            "referral.anonymised.v1",
        }
        types = await event_types(platform.settings.nats_url, tenant.municipality, UUID(referral_id))
        if not wanted <= set(types):
            return None
        return [raw for _, raw in await referral_events(platform.settings.nats_url, tenant.municipality)]

    published = await eventually(all_events, what="the referral's events in the stream")
    for raw in published:
        assert not any(secret.encode() in raw for secret in secrets), raw

    assert caplog.records, "nothing was logged: the check below would prove nothing"
    for record in caplog.records:
        line = f"{record.getMessage()} {record.__dict__}"
        assert not any(secret in line for secret in secrets), line

    assert spans.get_finished_spans(), "no spans: the check below would prove nothing"
    for span in spans.get_finished_spans():
        values = [*(span.attributes or {}).values(), span.name]
        values += [value for event in span.events for value in (event.attributes or {}).values()]
        assert not any(secret in str(value) for value in values for secret in secrets), span.name


async def test_every_read_of_the_person_is_in_the_libraries_access_log(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    participant, _ = someone()
    referral_id = await submit_for(platform, tenant, participant)
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    async with platform.client(tenant.staff_a) as api:  # before accepting it is not shown the person (nor logged)
        assert (await api.get(f"/api/v1/referrals/{referral_id}")).status_code == 200
        assert (await api.post(f"/api/v1/referrals/{referral_id}/accept")).status_code == 200
    for token in (tenant.staff_a, tenant.partner_a_token, coordinator):
        async with platform.client(token) as api:
            assert (await api.get(f"/api/v1/referrals/{referral_id}")).status_code == 200
    async with platform.client(tenant.staff_a) as api:
        assert (await api.get(f"/api/v1/referrals/{referral_id}/export")).status_code == 200
        log = await api.get(f"/api/v1/referrals/{referral_id}/access-log")
        library_log = await api.get("/api/v1/referrals/access-log", params={"referral_id": referral_id, "limit": 2})
    assert log.status_code == 200, log.text
    entries = log.json()["items"]
    # Newest first; the coordinator saw only the pseudonym, so that read is not a read of the person.
    assert [(e["purpose"], e["actor_role"], e["actor_organisation"]) for e in entries] == [
        ("export", "staff", tenant.library_a),
        ("view", "partner", tenant.partner_a),
        ("view", "staff", tenant.library_a),
    ]
    assert all(e["participant_pseudonym"].startswith("P-") for e in entries)
    assert participant["name"] not in log.text
    assert [e["id"] for e in library_log.json()["items"]] == [e["id"] for e in entries[:2]]
    assert library_log.json()["next_cursor"]

    for token in (tenant.partner_a_token, coordinator):
        async with platform.client(token) as api:
            assert (await api.get(f"/api/v1/referrals/{referral_id}/access-log")).status_code == 403
    async with platform.client(tenant.staff_b) as api:  # another library's referral: as if it did not exist
        assert (await api.get(f"/api/v1/referrals/{referral_id}/access-log")).status_code == 404


async def texts_containing(platform: RunningPlatform, needles: list[str]) -> list[str]:
    """Every text, varchar, jsonb and bytea column of the referrals schema, searched for each needle."""
    found: list[str] = []
    async with platform.services["referrals"].sessions() as session:
        columns = (
            await session.execute(
                sa.text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = 'referrals'"
                    " AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea')"
                )
            )
        ).all()
        assert {"participant_sealed", "reason", "note", "payload"} <= {c.column_name for c in columns}
        for table, column, data_type in columns:
            haystack = f'"{column}"' if data_type == "bytea" else f"convert_to(\"{column}\"::text, 'UTF8')"
            for needle in needles:
                hits = (
                    await session.execute(
                        sa.text(
                            f'SELECT count(*) FROM referrals."{table}"'
                            f" WHERE position(convert_to(:needle, 'UTF8') in {haystack}) > 0"
                        ),
                        {"needle": needle},
                    )
                ).scalar_one()
                if hits:
                    found.append(f"{table}.{column}: {needle}")
    return found


async def test_export_gives_everything_and_erasure_leaves_nothing_in_the_database(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    participant, secrets = someone()
    # Free text about the person, as people write it (the reason, the consent's purpose): erasure must find it too.
    consent = {
        **referral_body(tenant.library_a, tenant.partner_a)["consent"],
        "purpose": f"taalles voor {participant['name']}",
    }
    referral_id = await submit_for(
        platform, tenant, participant, reason=f"{participant['name']} wil leren lezen", consent=consent
    )
    async with platform.client(tenant.staff_a) as api:
        await api.post(f"/api/v1/referrals/{referral_id}/accept", json={"note": f"gebeld: {participant['phone']}"})
        exported = await api.get(f"/api/v1/referrals/{referral_id}/export")
    assert exported.status_code == 200, exported.text
    export = exported.json()
    assert export["referral"]["participant"] == participant
    assert [h["step"] for h in export["referral"]["history"]] == ["submit", "accept"]
    assert [e["purpose"] for e in export["access_log"]] == ["export"]
    assert await texts_containing(platform, secrets) != [], "the search must be able to find what is there"

    for token in (tenant.partner_a_token, tenant.staff_b):
        async with platform.client(token) as api:
            assert (await api.post(f"/api/v1/referrals/{referral_id}/erase")).status_code in (403, 404)
    async with platform.client(tenant.staff_a) as api:
        erased = await api.post(f"/api/v1/referrals/{referral_id}/erase")
        again = await api.post(f"/api/v1/referrals/{referral_id}/erase")
        after = await api.get(f"/api/v1/referrals/{referral_id}")
        export_after = await api.get(f"/api/v1/referrals/{referral_id}/export")

    assert erased.status_code == 200, erased.text
    # It was still open: it cannot go on without the person, so it is withdrawn first.
    assert (erased.json()["status"], erased.json()["withdraw_reason"]) == ("withdrawn", "erasure_requested")
    assert erased.json()["anonymised_at"] is not None and again.status_code == 200
    assert (after.json()["participant"], after.json()["reason"]) == (None, None)
    assert after.json()["needs"]  # what the statistics need stays
    assert export_after.json()["referral"]["participant"] is None
    assert await texts_containing(platform, secrets) == []
    assert (await referral_row(platform, UUID(referral_id))).participant_sealed is None

    async def erasure_events() -> list[str] | None:
        types = await event_types(platform.settings.nats_url, tenant.municipality, UUID(referral_id))
        return types if "referral.anonymised.v1" in types else None

    assert (await eventually(erasure_events, what="the anonymised event"))[-2:] == [
        "referral.withdrawn.v1",
        "referral.anonymised.v1",
    ]


async def test_key_rotation_keeps_old_data_readable_and_retires_the_old_key(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    participant, _ = someone()
    referral_id = UUID(await submit_for(platform, tenant, participant))
    old_key, pseudonym_key = platform.settings.encryption_key, platform.settings.pseudonym_key
    new_key = Fernet.generate_key().decode()
    operator = Actor(subject="operator", role=Role.OPERATOR)
    work, _ = work_at(platform, now())

    rotated = await privacy.rotate_encryption(
        work, ParticipantVault(f"{new_key},{old_key}", pseudonym_key), operator, RotateEncryption()
    )
    try:
        assert rotated.resealed >= 1
        sealed = (await referral_row(platform, referral_id)).participant_sealed
        assert ParticipantVault(new_key, pseudonym_key).unseal(sealed).name == participant["name"]
        with pytest.raises(InvalidToken):
            ParticipantVault(old_key, pseudonym_key).unseal(sealed)
    finally:
        # Back to the key the running platform has, for the tests that follow.
        await privacy.rotate_encryption(
            work, ParticipantVault(f"{old_key},{new_key}", pseudonym_key), operator, RotateEncryption()
        )

    async with platform.client(tenant.staff_a) as api:
        refused = await api.post("/api/v1/referrals/encryption/rotate")
    async with platform.client(tenant.operator) as api:
        rotated_by_api = await api.post("/api/v1/referrals/encryption/rotate")
    async with platform.client(tenant.partner_a_token) as api:  # the referrer sees the person at every step
        seen = await api.get(f"/api/v1/referrals/{referral_id}")
    assert refused.status_code == 403
    assert rotated_by_api.status_code == 200 and rotated_by_api.json()["resealed"] >= 1
    assert seen.json()["participant"]["name"] == participant["name"]
    async with platform.services["referrals"].sessions() as session:
        unsealed = (
            await session.execute(sa.select(sa.func.count()).where(store.referrals.c.participant_sealed.is_not(None)))
        ).scalar_one()
    assert rotated_by_api.json()["resealed"] == unsealed
