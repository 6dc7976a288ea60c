"""Who is shown the participant, twice: domain/consent.py `disclosure` decides what the staff's read shows, and its
SQL form (store/personal_data.py `person_shown_to_staff`) decides whether the statement that reads the referral
writes the access-log row. They must give the same answer in every case, or a person would be shown unlogged (the
read refuses then) or a read logged that showed nobody. Every combination of the rule's inputs is run through both."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest
import sqlalchemy as sa
from opentelemetry import trace

from services.referrals.domain import Parties
from services.referrals.domain.consent import consent_state, disclosure
from services.referrals.store import referrals
from services.referrals.store.personal_data import person_shown_to_staff
from shared.clock import local_date
from shared.contracts.referrals.api.referrals import Consent, ConsentParty, ConsentState, ReferralStatus
from shared.contracts.referrals.events import SharedData
from shared.db import DirectReads, Prepared
from shared.tenancy import Actor, Role

LIBRARY, OTHER_LIBRARY = "centrale", "elders"
PARTNER_A = UUID("0190a000-0000-7000-8000-000000000001")
PARTNER_B = UUID("0190a000-0000-7000-8000-000000000002")
STAFF = Actor(subject="s", role=Role.STAFF, municipality="m", library=LIBRARY)
# Mid-morning, and half past midnight in Amsterdam (still the day before in UTC): the consent's last day is Dutch.
MOMENTS = (datetime(2025, 3, 14, 10, 0, tzinfo=UTC), datetime(2025, 3, 14, 23, 30, tzinfo=UTC))
PARTIES = (  # (referring partner, receiving partner): to the library, to a partner, without one, both named
    (PARTNER_A, None),
    (None, PARTNER_B),
    (None, None),
    (PARTNER_A, PARTNER_B),
)
SHARES = ([SharedData.REASON, SharedData.OUTCOME], [SharedData.CONTACT_DETAILS, SharedData.REASON])

SHOWN = Prepared(
    "who is shown",
    sa.select(
        referrals.c.id,
        person_shown_to_staff(
            sa.bindparam("library", type_=sa.Text), sa.bindparam("at", type_=sa.DateTime(timezone=True))
        ).label("shown"),
    ),
)


@pytest.fixture
async def reads(database_url: str) -> AsyncIterator[DirectReads]:
    """A table named and typed like the referrals' columns the rule reads, in a schema of the test's own."""
    schema = f"disclosure_{uuid4().hex[:12]}"
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await connection.execute(f"CREATE SCHEMA {schema}")
        await connection.execute(
            f"CREATE TABLE {schema}.referrals (id int PRIMARY KEY, library text NOT NULL, participant_sealed bytea,"
            " consent jsonb NOT NULL, consent_valid_until date NOT NULL, consent_state text NOT NULL,"
            " status text NOT NULL, referring_partner_id uuid, receiving_partner_id uuid)"
        )
    finally:
        await connection.close()
    reads = DirectReads(database_url, schema, size=1, tracer=trace.get_tracer("test"))
    await reads.start()
    yield reads
    await reads.close()


@pytest.mark.parametrize("at", MOMENTS, ids=["morning", "after midnight in Amsterdam"])
async def test_the_sql_rule_shows_the_person_to_the_staff_exactly_where_the_domain_does(
    reads: DirectReads, at: datetime
) -> None:
    today = local_date(at)
    cases = list(
        itertools.product(
            (LIBRARY, OTHER_LIBRARY),
            (True, False),  # the sealed data still there (not erased)
            list(ConsentState),
            (today - timedelta(days=1), today, today + timedelta(days=1)),
            list(ReferralStatus),
            SHARES,
            PARTIES,
        )
    )
    expected: dict[int, bool] = {}
    rows = []
    for n, (library, sealed, kept, valid_until, status, shares, (referring, receiving)) in enumerate(cases):
        consent = Consent(
            given_at=at - timedelta(days=30),
            given_to=[ConsentParty(library=library)],
            shares=shares,
            purpose="taalcursus",
            valid_until=valid_until,
        )
        parties = Parties(library, "m", referring_partner_id=referring, receiving_partner_id=receiving)
        shown = disclosure(STAFF, parties, consent=consent, state=consent_state(kept, valid_until, at), status=status)
        expected[n] = sealed and shown.person
        sealed_data = b"sealed" if sealed else None
        rows.append((n, library, sealed_data, consent, valid_until, kept.value, status.value, referring, receiving))
    async with reads.connection() as db:
        await db.execute(
            Prepared(
                "insert cases",
                sa.text(
                    "INSERT INTO referrals SELECT * FROM unnest(CAST(:ids AS int[]), CAST(:libraries AS text[]),"
                    " CAST(:sealed AS bytea[]), CAST(:consents AS jsonb[]), CAST(:valid AS date[]),"
                    " CAST(:kept AS text[]), CAST(:statuses AS text[]), CAST(:referring AS uuid[]),"
                    " CAST(:receiving AS uuid[]))"
                ),
            ),
            ids=[row[0] for row in rows],
            libraries=[row[1] for row in rows],
            sealed=[row[2] for row in rows],
            consents=[row[3] for row in rows],
            valid=[row[4] for row in rows],
            kept=[row[5] for row in rows],
            statuses=[row[6] for row in rows],
            referring=[row[7] for row in rows],
            receiving=[row[8] for row in rows],
        )
        found = await db.fetch(SHOWN, library=LIBRARY, at=at)

    by_sql = {row.id: row.shown for row in found}
    assert len(by_sql) == len(cases)
    disagreements = [cases[n] for n in expected if expected[n] != by_sql[n]]
    assert disagreements == []
    # Both answers occur, for each reason the rule has: the test would pass vacuously otherwise.
    assert 0 < sum(expected.values()) < len(cases)
    shown_because = {(cases[n][6], cases[n][3] >= today) for n, shown in expected.items() if shown}
    assert {parties for parties, _ in shown_because} == set(PARTIES)
    assert {in_force for _, in_force in shown_because} == {True}
