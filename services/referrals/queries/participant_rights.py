"""What the participant's own page says about their data: what is held (the kinds, never the values), which
parties receive it and whether they are shown it now, until when their consent shares it and until when it is
kept, how often it was read, and the rights they asked for that are waiting for the library."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import store
from services.referrals.queries.policy import policy_view
from services.referrals.queries.referral import consent_state_of, shown_to
from services.referrals.store import partnerships, personal_data_reads
from services.referrals.store import person as person_store
from services.referrals.store.personal_data import ParticipantVault
from shared.contracts.referrals.api.participant_page import RIGHTS, HeldData, PageParty, ParticipantChangeKind
from shared.contracts.referrals.api.person import PartyKind, PartyRole
from shared.contracts.referrals.api.referrals import Withholding
from shared.tenancy import Actor, Role


def held(row: sa.Row, vault: ParticipantVault) -> list[HeldData]:
    kinds: list[HeldData] = []
    if row.participant_sealed is not None:
        # Unsealed only to see which fields are filled in: nothing of it leaves this function, so it is no read.
        person = vault.unseal(row.participant_sealed)
        filled = {HeldData.NAME: person.name, HeldData.BIRTH_DATE: person.birth_date}
        filled |= {HeldData.PHONE: person.phone, HeldData.EMAIL: person.email}
        kinds += [kind for kind, value in filled.items() if value]
    other = {HeldData.REASON: row.reason, HeldData.NEEDS: row.needs}
    other |= {HeldData.APPOINTMENT: row.intake, HeldData.OUTCOME: row.outcome}
    return [*kinds, *(kind for kind, value in other.items() if value), HeldData.HISTORY]


def party_actor(kind: PartyKind, id_: str) -> Actor:
    """The party as an actor, to ask the consent rules what it is shown (domain/consent.py)."""
    if kind is PartyKind.LIBRARY:
        return Actor(subject="participant-page", role=Role.STAFF, library=id_)
    return Actor(subject="participant-page", role=Role.PARTNER, partner=id_)


async def parties(session: AsyncSession, row: sa.Row, now: datetime) -> list[PageParty]:
    """The library and the partners of the referral, and whether each is shown who the person is now: what the
    consent rules show that party (its consent ended, a partner suspended or ended, its partnership with the
    library or the municipality's agreement ended or suspended: not any more), and since when it is not."""
    named: list[tuple[PartyKind, str, PartyRole]] = [(PartyKind.LIBRARY, row.library, PartyRole.LIBRARY)]
    if row.referring_partner_id is not None:
        named.append((PartyKind.PARTNER, str(row.referring_partner_id), PartyRole.REFERRING))
    if row.receiving_partner_id is not None:
        named.append((PartyKind.PARTNER, str(row.receiving_partner_id), PartyRole.RECEIVING))
    partners = {row.referring_partner_id, row.receiving_partner_id} - {None}
    names = await person_store.party_names(session, {row.library}, partners)
    found = []
    for kind, id_, role in named:
        actor = party_actor(kind, id_)
        standing = None
        if kind is PartyKind.PARTNER:
            standing = await partnerships.partner_standing(session, UUID(id_), row.library, row.municipality)
        shown = shown_to(actor, row, now, standing)
        since = None
        if not shown.person:
            since = await stopped_since(session, row, shown.because, UUID(id_) if standing is not None else None)
        found.append(PageParty(kind=kind.value, name=names.get(id_), role=role.value, sees=shown.person, since=since))
    return found


async def stopped_since(
    session: AsyncSession, row: sa.Row, because: Withholding | None, partner_id: UUID | None
) -> datetime | None:
    """Since when a party that saw the person no longer does; None where it never did (or the time is unknown)."""
    if because in (Withholding.CONSENT_REVOKED, Withholding.CONSENT_EXPIRED):
        return row.consent_ended_at
    if partner_id is None:
        return None
    if because is Withholding.PARTNER_INACTIVE:
        partner = await store.known.find_partner(session, partner_id)
        return partner.status_changed_at if partner is not None else None
    if because is Withholding.PARTNERSHIP_ENDED:
        return await partnerships.partnership_stopped_at(session, partner_id, row.library, row.municipality)
    return None


async def data_on_page(
    session: AsyncSession, vault: ParticipantVault, row: sa.Row, waiting: list[sa.Row], now: datetime
) -> dict[str, Any]:
    """The page's fields about the data (ParticipantPage's `held` … `rights_requested`)."""
    r = personal_data_reads
    reads = (await session.execute(sa.select(sa.func.count()).where(r.c.referral_id == row.id))).scalar_one()
    asked = [ParticipantChangeKind(request.kind) for request in waiting]
    return {
        "held": held(row, vault),
        "parties": await parties(session, row, now),
        "consent_state": consent_state_of(row, now).value,
        "shared_until": row.consent_valid_until,
        "kept_until": row.erase_after,
        "retention_days": policy_view(row.library, await store.find_policy(session, row.library)).retention_days,
        "reads": int(reads),
        "rights_requested": sorted({kind for kind in asked if kind in RIGHTS}),
    }
