"""Read models of the referrals service for the gateway."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa

from services.referrals import domain, store
from services.referrals.store import ParticipantVault
from shared.contracts.referrals import (
    Consent,
    ContactChannel,
    ContactPerson,
    GetReferral,
    Need,
    ReferralStatus,
    ReferralView,
)
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


def referral_view(row: sa.Row, vault: ParticipantVault, actor: Actor) -> ReferralView:
    show_person = domain.may_read_personal_data(
        actor, library=row.library, referring_partner_id=row.referring_partner_id
    )
    return ReferralView(
        id=row.id,
        status=ReferralStatus(row.status),
        library=row.library,
        municipality=row.municipality,
        referring_partner_id=row.referring_partner_id,
        participant_pseudonym=row.participant_pseudonym,
        needs=msgspec.convert(row.needs, list[Need]),
        reason=row.reason,
        preferred_channel=ContactChannel(row.preferred_channel),
        contact_person=msgspec.convert(row.contact_person, ContactPerson),
        consent=msgspec.convert(row.consent, Consent),
        submitted_at=row.submitted_at,
        participant=vault.unseal(row.participant_sealed) if show_person else None,
    )


async def get_referral(work: UnitOfWork, vault: ParticipantVault, actor: Actor, query: GetReferral) -> ReferralView:
    async with work.read() as session:
        row = await store.find_referral(session, query.referral_id)
    # Out of scope answers exactly like missing, so a referral's existence never leaks.
    if row is None or not domain.may_read(
        actor, library=row.library, municipality=row.municipality, referring_partner_id=row.referring_partner_id
    ):
        raise NotFound(f"referral {query.referral_id} not found")
    return referral_view(row, vault, actor)
