"""Volunteers' personal data at rest (migration 003): sealed with the platform's encryption keys, found by keyed
digests of the e-mail address and of each part of the name; and the libraries' retention policies.

Search by name uses digests of whole name parts, not decryption of every row on read: a list is paged in the
database (keyset), which a filter over decrypted names could not do without reading the library's whole
register, and a digest of a whole part ("jansen") gives nothing to count or guess without the key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.volunteers.store import certificates, hours, internships, metadata, volunteer_history, volunteers
from shared.contracts.volunteers.api.volunteers import (
    InternAssessment,
    SchoolSupervisor,
    VolunteerPerson,
    VolunteerStatus,
)
from shared.personal_data import KeyedDigests, Sealer, normalise_name

volunteer_name_digests = sa.Table(
    "volunteer_name_digests",
    metadata,
    sa.Column("volunteer_id", PgUUID(as_uuid=True), sa.ForeignKey("volunteers.id"), primary_key=True),
    sa.Column("digest", sa.LargeBinary, primary_key=True),
    sa.Index("volunteer_name_digests_by_digest", "digest"),
)

volunteer_policies = sa.Table(
    "volunteer_policies",
    metadata,
    sa.Column("library", sa.Text, primary_key=True),
    sa.Column("applicant_retention_days", sa.Integer, nullable=False),
    sa.Column("volunteer_retention_days", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("certificate_validity_months", sa.Integer),  # NULL: the default (domain/screening.py)
    sa.Column("certificate_max_age_months", sa.Integer),
)


class SealedPerson(msgspec.Struct, frozen=True, kw_only=True):
    """What one sealed blob holds about a volunteer, an applicant or an intern."""

    name: str
    email: str | None = None
    phone: str | None = None
    motivation: str | None = None


class PersonVault:
    """Seals and opens volunteers' personal data and derives its search digests; the keys stay in the service."""

    def __init__(self, encryption_keys: str, blind_index_key: str) -> None:
        self._sealer = Sealer(encryption_keys)
        # A label of its own: these digests never equal the referrals service's, made from the same key.
        self._digests = KeyedDigests(blind_index_key, "volunteers v1")

    def seal(self, value: SealedPerson | SchoolSupervisor | InternAssessment) -> bytes:
        return self._sealer.seal(value)

    def person(self, sealed: bytes) -> SealedPerson:
        return self._sealer.unseal(sealed, SealedPerson)

    def supervisor(self, sealed: bytes) -> SchoolSupervisor:
        return self._sealer.unseal(sealed, SchoolSupervisor)

    def assessment(self, sealed: bytes) -> InternAssessment:
        return self._sealer.unseal(sealed, InternAssessment)

    def reseal(self, sealed: bytes) -> bytes:
        return self._sealer.reseal(sealed)

    def email_digest(self, email: str | None) -> bytes | None:
        return self._digests.email(email) if email else None

    def name_digests(self, name: str) -> set[bytes]:
        return self._digests.name_parts(name)


def person_columns(vault: PersonVault, person: VolunteerPerson, motivation: str | None) -> dict[str, Any]:
    """The `volunteers` columns for a person: sealed, with the e-mail's digest, and nothing in clear."""
    sealed = SealedPerson(name=person.name, email=person.email, phone=person.phone, motivation=motivation)
    return {
        "person_sealed": vault.seal(sealed),
        "email_digest": vault.email_digest(person.email),
        "name": None,
        "email": None,
        "phone": None,
        "motivation": None,
    }


def person_of(vault: PersonVault, row: sa.Row) -> SealedPerson | None:
    """The person behind a `volunteers` row: None once anonymised; a row from before sealing is read in clear."""
    if row.person_sealed is not None:
        return vault.person(row.person_sealed)
    if row.name is not None:
        return SealedPerson(name=row.name, email=row.email, phone=row.phone, motivation=row.motivation)
    return None


def supervisor_of(vault: PersonVault, row: sa.Row) -> SchoolSupervisor | None:
    if row.supervisor_sealed is not None:
        return vault.supervisor(row.supervisor_sealed)
    if row.supervisor is not None:
        return msgspec.convert(row.supervisor, SchoolSupervisor)
    return None


async def save_name_digests(session: AsyncSession, vault: PersonVault, volunteer_id: UUID, name: str) -> None:
    await forget_name_digests(session, volunteer_id)
    digests = vault.name_digests(name)
    if digests:
        await session.execute(
            insert(volunteer_name_digests)
            .values([{"volunteer_id": volunteer_id, "digest": d} for d in digests])
            .on_conflict_do_nothing()
        )


async def forget_name_digests(session: AsyncSession, volunteer_id: UUID) -> None:
    await session.execute(volunteer_name_digests.delete().where(volunteer_name_digests.c.volunteer_id == volunteer_id))


def named(vault: PersonVault, search: str) -> sa.ColumnElement[bool]:
    """Volunteers whose name has every part of `search` ("jansen", "Piet Jansen", "jansen, piet")."""
    digests = {vault.name_digests(part).pop() for part in normalise_name(search)}
    if not digests:
        return sa.true()
    d = volunteer_name_digests
    having_all = (
        sa.select(d.c.volunteer_id)
        .where(d.c.digest.in_(digests))
        .group_by(d.c.volunteer_id)
        .having(sa.func.count() == len(digests))
    )
    return volunteers.c.id.in_(having_all)


async def with_email(
    session: AsyncSession, vault: PersonVault, library: str, email: str, *, lock: bool = False
) -> list[sa.Row]:
    """The library's volunteers and applicants (not anonymised) with this e-mail address, however it was typed:
    what a check for a second application by the same person compares, without addresses in clear.

    With `lock`, two applications of the same address at once are taken one after the other (until the
    transaction ends), so the second sees the first.
    """
    digest = vault.email_digest(email)
    assert digest is not None
    if lock:
        key = f"volunteer-email:{library}:{digest.hex()}"
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key))))
    statement = sa.select(volunteers).where(
        volunteers.c.library == library, volunteers.c.email_digest == digest, volunteers.c.anonymised_at.is_(None)
    )
    return list((await session.execute(statement.order_by(volunteers.c.applied_at))).all())


async def seal_clear_rows(session: AsyncSession, vault: PersonVault, limit: int) -> int:
    """Seal rows written in clear before sealing existed, and empty their clear columns; returns how many."""
    v = volunteers
    rows = (
        await session.execute(sa.select(v).where(v.c.name.is_not(None)).limit(limit).with_for_update(skip_locked=True))
    ).all()
    for row in rows:
        person = VolunteerPerson(name=row.name, email=row.email, phone=row.phone)
        await session.execute(
            v.update().where(v.c.id == row.id).values(**person_columns(vault, person, row.motivation))
        )
        await save_name_digests(session, vault, row.id, row.name)
    i = internships
    schools = (
        await session.execute(
            # An emptied column may hold JSON null (written before it was declared none_as_null): not clear text.
            sa.select(i)
            .where(sa.func.jsonb_typeof(i.c.supervisor) == "object")
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for school in schools:
        supervisor = msgspec.convert(school.supervisor, SchoolSupervisor)
        await session.execute(
            i.update()
            .where(i.c.volunteer_id == school.volunteer_id)
            .values(supervisor=None, supervisor_sealed=vault.seal(supervisor))
        )
    return len(rows) + len(schools)


async def find_policy(session: AsyncSession, library: str, *, lock: bool = False) -> sa.Row | None:
    statement = sa.select(volunteer_policies).where(volunteer_policies.c.library == library)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def save_policy(
    session: AsyncSession,
    library: str,
    *,
    applicant_days: int,
    volunteer_days: int,
    certificate_validity_months: int,
    certificate_max_age_months: int,
    now: datetime,
) -> None:
    p = volunteer_policies
    values = {
        "applicant_retention_days": applicant_days,
        "volunteer_retention_days": volunteer_days,
        "certificate_validity_months": certificate_validity_months,
        "certificate_max_age_months": certificate_max_age_months,
        "updated_at": now,
    }
    statement = insert(p).values(library=library, version=1, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["library"], set_={**values, "version": p.c.version + 1})
    )


def served(volunteer_id: sa.ColumnElement[UUID]) -> sa.Exists:
    """Whether the person was ever in service (active): then they are a former volunteer, not an applicant."""
    h = volunteer_history
    return sa.exists().where(h.c.volunteer_id == volunteer_id, h.c.status == VolunteerStatus.ACTIVE.value)


async def erase_person(session: AsyncSession, volunteer_id: UUID, *, version: int, at: datetime) -> None:
    """Who the person is goes: their sealed and clear details, their supervisor's, their certificates, and the free
    text that may say anything about them (reasons in the history, notes with hours)."""
    v, i, h = volunteers, internships, volunteer_history
    await session.execute(
        v.update()
        .where(v.c.id == volunteer_id)
        .values(
            person_sealed=None,
            email_digest=None,
            name=None,
            email=None,
            phone=None,
            motivation=None,
            status_reason=None,
            anonymised_at=at,
            version=version,
            updated_at=at,
        )
    )
    await session.execute(
        i.update()
        .where(i.c.volunteer_id == volunteer_id)
        .values(supervisor=None, supervisor_sealed=None, learning_goals=[], assessment_sealed=None)
    )
    await session.execute(certificates.delete().where(certificates.c.volunteer_id == volunteer_id))
    await session.execute(h.update().where(h.c.volunteer_id == volunteer_id).values(reason=None))
    await session.execute(hours.update().where(hours.c.volunteer_id == volunteer_id).values(note=None))


async def past_retention(
    session: AsyncSession, now: datetime, *, volunteer_days: int, applicant_days: int, batch: int
) -> list[sa.Row]:
    """People not yet anonymised whose library's retention after leaving has passed (its policy, else the days
    given), locked: replicas running the job at once take different rows."""
    v, p = volunteers, volunteer_policies
    days = sa.case(
        (served(v.c.id), sa.func.coalesce(p.c.volunteer_retention_days, volunteer_days)),
        else_=sa.func.coalesce(p.c.applicant_retention_days, applicant_days),
    )
    statement = (
        sa.select(v)
        .select_from(v.outerjoin(p, p.c.library == v.c.library))
        .where(
            v.c.anonymised_at.is_(None),
            v.c.left_service_at.is_not(None),
            v.c.left_service_at + sa.func.make_interval(0, 0, 0, days) <= now,
        )
        .order_by(v.c.left_service_at)
        .limit(batch)
        .with_for_update(of=v, skip_locked=True)
    )
    return list((await session.execute(statement)).all())


# What is sealed with the vault's key: a person's details, a school supervisor's, an intern's assessment (table, key,
# sealed column).
SEALED = {
    "person": (volunteers, volunteers.c.id, volunteers.c.person_sealed),
    "supervisor": (internships, internships.c.volunteer_id, internships.c.supervisor_sealed),
    "assessment": (internships, internships.c.volunteer_id, internships.c.assessment_sealed),
}
