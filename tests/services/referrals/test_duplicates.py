"""Duplicate participants on the real database through the use cases: warnings, decisions, scope and forgetting
(the blind index itself without servers: test_blind_index.py)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
import sqlalchemy as sa

from services.referrals import store
from services.referrals.blind_index import (
    NEAR_MATCH,
    BlindIndex,
)
from services.referrals.commands import duplicates, lifecycle, privacy, submission
from services.referrals.queries import duplicates as duplicate_queries
from services.referrals.queries import referral as referral_queries
from services.referrals.store import duplicates as duplicate_store
from services.referrals.store import participants as participant_store
from shared.contracts.referrals.api.duplicates import (
    DecideDuplicate,
    DuplicateDecision,
    DuplicateStep,
    DuplicateWarningView,
    ListDuplicateWarnings,
)
from shared.contracts.referrals.api.participant_data import EraseParticipantData
from shared.contracts.referrals.api.referrals import (
    DeclineReferral,
    GetReferral,
    Participant,
    ReferralStep,
    ReferralView,
)
from shared.contracts.referrals.events import DeclineReason
from shared.errors import Conflict, Forbidden, IllegalTransition, NotFound
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import KnownTenant, now, pooled_tenant, submit_command, vault_of, work_at

BORN = date(1984, 3, 2)


async def refer(
    platform: RunningPlatform, known: KnownTenant, name: str, *, born: date = BORN, to_b: bool = False
) -> ReferralView:
    """A partner refers `name` to library A (or B); the submission runs with the platform's blind index."""
    library, partner, actor = (
        (known.library_b, known.partner_b, known.partner_b_actor)
        if to_b
        else (known.library_a, known.partner_a, known.partner_a_actor)
    )
    command = submit_command(
        library, referring_partner_id=partner, participant=Participant(name=name, birth_date=born, phone="0612345678")
    )
    work, _ = work_at(platform, now())
    index = BlindIndex(platform.settings.blind_index_key)
    return await submission.submit_referral(work, vault_of(platform), actor, command, duplicates=index)


async def seen_by(platform: RunningPlatform, actor: Actor, referral_id: UUID) -> ReferralView:
    work, _ = work_at(platform, now())
    return await referral_queries.get_referral(work, vault_of(platform), actor, GetReferral(referral_id=referral_id))


async def warnings(platform: RunningPlatform, actor: Actor, **filters: Any) -> list[DuplicateWarningView]:
    work, _ = work_at(platform, now())
    page = await duplicate_queries.list_duplicates(work, actor, ListDuplicateWarnings(**filters))
    return list(page.items)


async def test_the_same_person_referred_again_is_flagged_for_the_receiving_librarys_staff_only(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    first = await refer(platform, known, "Fatima El Amrani", to_b=True)
    again = await refer(platform, known, "Fatima El Amrani")

    assert again.possible_duplicates == []  # the partner who referred learns nothing of other referrals
    view = await seen_by(platform, known.staff_a, again.id)
    (flagged,) = view.possible_duplicates
    assert (flagged.referral_id, flagged.library, flagged.exact, flagged.similarity) == (
        first.id,
        known.library_b,
        True,
        1.0,
    )
    assert flagged.decision is DuplicateDecision.OPEN
    (listed,) = await warnings(platform, known.staff_a)
    assert listed.referral_id == again.id and listed.duplicate_of == first.id

    # Nobody else sees it: not the partner, not the other library, not a coordinator.
    coordinator = Actor(subject="coord", role=Role.COORDINATOR, municipality=known.municipality)
    for outsider in (known.partner_a_actor, coordinator):
        assert (await seen_by(platform, outsider, again.id)).possible_duplicates == []
    assert await warnings(platform, known.staff_b) == []
    for outsider in (known.partner_a_actor, coordinator, Actor(subject="op", role=Role.OPERATOR)):
        with pytest.raises(Forbidden):
            await warnings(platform, outsider)


async def test_swapped_name_order_and_a_typing_error_are_found_too(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    first = await refer(platform, known, "Fatima El Amrani")
    swapped = await refer(platform, known, "El Amrani, Fatima")
    typo = await refer(platform, known, "Fatma El Amrani")

    (exact,) = (await seen_by(platform, known.staff_a, swapped.id)).possible_duplicates
    assert (exact.referral_id, exact.exact) == (first.id, True)
    near = (await seen_by(platform, known.staff_a, typo.id)).possible_duplicates
    assert {d.referral_id for d in near} == {first.id, swapped.id}
    assert all(not d.exact and NEAR_MATCH <= d.similarity < 1 for d in near)


async def test_another_birth_date_another_municipality_or_a_closed_referral_is_no_match(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    elsewhere_tenant = await pooled_tenant(platform)
    elsewhere = KnownTenant(
        elsewhere_tenant.municipality,
        elsewhere_tenant.library_a,
        elsewhere_tenant.library_b,
        UUID(elsewhere_tenant.partner_a),
        UUID(elsewhere_tenant.partner_b),
    )
    await refer(platform, elsewhere, "Fatima El Amrani")  # the same person, in another municipality
    closed = await refer(platform, known, "Fatima El Amrani", to_b=True)
    work, _ = work_at(platform, now())
    decline = DeclineReferral(reason=DeclineReason.NOT_OUR_OFFER)
    await lifecycle.decline_referral(work, known.staff_b, ReferralStep(referral_id=closed.id, command=decline))

    same_name_other_day = await refer(platform, known, "Fatima El Amrani", born=date(1984, 3, 3))
    again = await refer(platform, known, "Fatima El Amrani")

    assert (await seen_by(platform, known.staff_a, same_name_other_day.id)).possible_duplicates == []
    assert (await seen_by(platform, known.staff_a, again.id)).possible_duplicates == []
    assert await warnings(platform, known.staff_a) == []


async def stored_for(platform: RunningPlatform, library: str) -> tuple[int, int, int, int]:
    """The library's referrals, their outbox events, their blind index rows and its warnings, counted."""
    async with platform.services["referrals"].engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM referrals WHERE library = :library),"
                    " (SELECT count(*) FROM outbox WHERE subject LIKE '%.' || :library),"
                    " (SELECT count(*) FROM referral_blind_keys b JOIN referrals r ON r.id = b.referral_id"
                    "  WHERE r.library = :library),"
                    " (SELECT count(*) FROM duplicate_warnings WHERE library = :library)"
                ),
                {"library": library},
            )
        ).one()
    return row[0], row[1], row[2], row[3]


async def test_a_failure_writing_the_warnings_fails_the_submission_whole_and_its_retry_writes_both(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    """The warnings are written by the statement that writes the referral: a failure there stores nothing (no
    referral, event or digest that would stand without its warning) and the caller's retry writes all of it."""
    first = await refer(platform, known, "Fatima El Amrani", to_b=True)
    before = await stored_for(platform, known.library_a)
    engine = platform.services["referrals"].engine
    name = f"refuse_warnings_{uuid4().hex[:12]}"
    async with engine.begin() as conn:
        # Refuses this test's library's warnings only: other tests on the same database go on as they are.
        await conn.execute(
            sa.text(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" IF NEW.library = '{known.library_a}' THEN RAISE EXCEPTION 'warning refused by the test'; END IF;"
                " RETURN NEW; END $$"
            )
        )
        await conn.execute(
            sa.text(f"CREATE TRIGGER {name} BEFORE INSERT ON duplicate_warnings FOR EACH ROW EXECUTE FUNCTION {name}()")
        )
    try:
        with pytest.raises(asyncpg.PostgresError, match="warning refused by the test"):
            await refer(platform, known, "Fatima El Amrani")
        assert await stored_for(platform, known.library_a) == before
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"DROP TRIGGER {name} ON duplicate_warnings"))
            await conn.execute(sa.text(f"DROP FUNCTION {name}()"))

    again = await refer(platform, known, "Fatima El Amrani")
    referrals, events, digests, warnings_written = await stored_for(platform, known.library_a)
    assert (referrals, events, warnings_written) == (before[0] + 1, before[1] + 1, before[3] + 1)
    assert digests > before[2]
    (flagged,) = (await seen_by(platform, known.staff_a, again.id)).possible_duplicates
    assert (flagged.referral_id, flagged.exact) == (first.id, True)


async def test_staff_link_or_keep_separate_and_only_their_own_librarys_warnings(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    first = await refer(platform, known, "Piet Meijer", to_b=True)
    again = await refer(platform, known, "Piet Meyer")
    (warning,) = await warnings(platform, known.staff_a, decision=DuplicateDecision.OPEN)
    warning_id = warning.id
    link = DecideDuplicate(warning_id=warning_id, step=DuplicateStep.LINK)
    work, _ = work_at(platform, now())

    with pytest.raises(NotFound):  # library B's staff: not theirs to decide, as if it did not exist
        await duplicates.decide_duplicate(work, known.staff_b, link)
    with pytest.raises(Forbidden):
        await duplicates.decide_duplicate(work, known.partner_a_actor, link)
    with pytest.raises(Conflict):
        await duplicates.decide_duplicate(
            work, known.staff_a, DecideDuplicate(warning_id=warning_id, step=DuplicateStep.LINK, expected_version=2)
        )
    linked = await duplicates.decide_duplicate(
        work, known.staff_a, DecideDuplicate(warning_id=warning_id, step=DuplicateStep.LINK, expected_version=1)
    )
    assert (linked.decision, linked.version, linked.decided_by) == (DuplicateDecision.LINKED, 2, "staff-a")
    with pytest.raises(IllegalTransition):
        await duplicates.decide_duplicate(work, known.staff_a, link)

    # Both referrals stay; each library's staff see the link on their own referral.
    mine = await seen_by(platform, known.staff_a, again.id)
    theirs = await seen_by(platform, known.staff_b, first.id)
    assert [(d.referral_id, d.decision) for d in mine.possible_duplicates] == [(first.id, DuplicateDecision.LINKED)]
    assert [(d.referral_id, d.library) for d in theirs.possible_duplicates] == [(again.id, known.library_a)]
    assert mine.status.value == theirs.status.value == "submitted"
    assert "duplicate_linked" in [entry.step for entry in mine.history]

    separate = await duplicates.decide_duplicate(
        work, known.staff_a, DecideDuplicate(warning_id=warning_id, step=DuplicateStep.SEPARATE)
    )
    assert separate.decision is DuplicateDecision.SEPARATE
    assert (await seen_by(platform, known.staff_b, first.id)).possible_duplicates == []  # no longer linked
    assert await warnings(platform, known.staff_a, decision=DuplicateDecision.OPEN) == []


async def test_the_database_holds_no_name_in_clear_and_events_no_digest(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    name = "Zoë Vlietstra-Oudshoorn"
    first = await refer(platform, known, name)
    again = await refer(platform, known, "Zoe Vlietstra Oudshoorn")
    assert (await seen_by(platform, known.staff_a, again.id)).possible_duplicates[0].referral_id == first.id
    keys = BlindIndex(platform.settings.blind_index_key).keys_for(name, BORN)
    assert keys is not None

    async with platform.services["referrals"].engine.connect() as conn:
        columns = (
            await conn.execute(
                sa.text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'referrals' AND data_type IN ('text', 'jsonb', 'bytea')"
                )
            )
        ).all()
        found = []
        for table, column, kind in columns:
            value = f"encode(\"{column}\", 'escape')" if kind == "bytea" else f'"{column}"::text'
            for needle in ("vlietstra", "oudshoorn"):
                hits = (
                    await conn.execute(
                        sa.text(f'SELECT count(*) FROM "{table}" WHERE {value} ILIKE :n'), {"n": f"%{needle}%"}
                    )
                ).scalar_one()
                if hits:
                    found.append((table, column, needle))
        payloads = (await conn.execute(sa.text("SELECT payload FROM outbox"))).scalars().all()
    assert found == [], "personal data in clear"
    assert len(columns) > 20  # every table was searched, the new ones included
    digests = [keys.exact, *keys.features]
    for payload in payloads:
        assert not any(d.hex().encode() in payload or d in payload for d in digests)
        assert b"similarity" not in payload and b"duplicate" not in payload


async def test_erasure_deletes_the_blind_index_and_a_closed_referral_keeps_only_its_exact_digest(
    platform: RunningPlatform, known: KnownTenant
) -> None:
    first = await refer(platform, known, "Fatima El Amrani")
    again = await refer(platform, known, "Fatima El Amrani", to_b=True)
    assert await digests_of(platform, again.id) > 0
    work, _ = work_at(platform, now())

    await privacy.erase_participant_data(work, known.staff_b, EraseParticipantData(referral_id=again.id))

    assert await digests_of(platform, again.id) == 0
    assert await warnings(platform, known.staff_b) == []  # an open warning about an erased person goes too
    decline = DeclineReferral(reason=DeclineReason.NO_CAPACITY)
    await lifecycle.decline_referral(work, known.staff_a, ReferralStep(referral_id=first.id, command=decline))
    # Closing forgets the near-match digests in its own transaction (no sweep): only the exact digest stays (it
    # finds the person's referrals for their export or erasure), until erasure.
    assert await digests_of(platform, first.id) == 1
    # A new referral of the same person finds nothing left of either.
    third = await refer(platform, known, "Fatima El Amrani")
    assert (await seen_by(platform, known.staff_a, third.id)).possible_duplicates == []


async def digests_of(platform: RunningPlatform, referral_id: UUID) -> int:
    """The referral's digests: its exact one and its features (one row holds them, migration 021)."""
    b = duplicate_store.blind_index
    held = 1 + sa.func.coalesce(sa.func.cardinality(b.c.features), 0)
    async with platform.services["referrals"].sessions() as session:
        statement = sa.select(sa.func.coalesce(sa.func.sum(held), 0)).where(b.c.referral_id == referral_id)
        return int((await session.execute(statement)).scalar_one())


async def test_the_new_tables_are_the_tables_the_migration_made(platform: RunningPlatform) -> None:
    tables = [
        duplicate_store.blind_index,
        duplicate_store.duplicate_warnings,
        participant_store.participant_codes,
        participant_store.change_requests,
        participant_store.library_names,
    ]
    assert all(table.metadata is store.metadata for table in tables)
    async with platform.services["referrals"].engine.connect() as conn:

        def inspect(sync_conn: sa.Connection) -> dict[str, tuple[dict[str, bool], set[str]]]:
            inspector = sa.inspect(sync_conn)
            return {
                t.name: (
                    {c["name"]: c["nullable"] for c in inspector.get_columns(t.name, schema="referrals")},
                    {i["name"] for i in inspector.get_indexes(t.name, schema="referrals") if i["name"]},
                )
                for t in tables
            }

        migrated = await conn.run_sync(inspect)
    for table in tables:
        columns, indexes = migrated[table.name]
        assert columns == {c.name: c.nullable for c in table.columns}, table.name
        assert indexes >= {i.name for i in table.indexes if i.name}, table.name


async def test_over_http_staff_see_the_warning_and_decide_with_versions(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    typed_again = {"name": "El Amrani, Fatma", "birth_date": "1984-03-02"}
    async with platform.client(tenant.partner_a_token) as one, platform.client(tenant.partner_b_token) as other:
        first = (await one.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))).json()
        body = referral_body(tenant.library_a, tenant.partner_b, participant=typed_again)
        again = (await other.post("/api/v1/referrals", json=body)).json()
    assert again["possible_duplicates"] == []  # not for the partner that referred

    async with platform.client(tenant.staff_a) as staff, platform.client(tenant.staff_b) as other_staff:
        (flag,) = (await staff.get(f"/api/v1/referrals/{again['id']}")).json()["possible_duplicates"]
        assert (flag["referral_id"], flag["exact"], flag["decision"]) == (first["id"], False, "open")
        (listed,) = (await staff.get("/api/v1/referrals/duplicates", params={"decision": "open"})).json()["items"]
        assert (listed["id"], listed["referral_id"], listed["duplicate_of"]) == (
            flag["warning_id"],
            again["id"],
            first["id"],
        )
        assert (await other_staff.get("/api/v1/referrals/duplicates")).json()["items"] == []
        url = f"/api/v1/referrals/duplicates/{flag['warning_id']}"
        assert (await other_staff.post(f"{url}/link")).status_code == 404

        linked = await staff.post(f"{url}/link", headers={"If-Match": '"1"'})
        assert linked.status_code == 200, linked.text
        assert (linked.json()["decision"], linked.headers["etag"]) == ("linked", '"2"')
        stale = await staff.post(f"{url}/separate", headers={"If-Match": '"1"'})
        assert stale.status_code == 409 and stale.json()["current"]["decision"] == "linked"
        again_linked = await staff.post(f"{url}/link")
        assert again_linked.status_code == 409 and again_linked.json()["type"].endswith("illegal-transition")
