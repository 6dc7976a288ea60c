"""Use cases of the referrals service: load, decide (domain), save, stage events, commit."""

from __future__ import annotations

import msgspec

from services.referrals import domain, queries, store
from services.referrals.store import ParticipantVault
from shared.contracts import Envelope
from shared.contracts.partners import LibraryRegistered, PartnerRegistered
from shared.contracts.referrals import ReferralStatus, ReferralSubmitted, ReferralView, SubmitReferral
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork


async def submit_referral(
    work: UnitOfWork, vault: ParticipantVault, actor: Actor, command: SubmitReferral
) -> ReferralView:
    referral_id = new_id()
    pseudonym = vault.pseudonym(referral_id)
    async with work.transaction() as tx:
        now = tx.clock.now()
        domain.check_consent(command.consent, now)
        library_municipality = await store.find_library_municipality(tx.session, command.library)
        domain.check_may_submit(
            actor,
            library=command.library,
            library_municipality=library_municipality,
            referring_partner_id=command.referring_partner_id,
            partner_municipality=await store.find_partner_municipality(tx.session, command.referring_partner_id),
        )
        assert library_municipality is not None
        await tx.session.execute(
            store.referrals.insert().values(
                id=referral_id,
                library=command.library,
                municipality=library_municipality,
                referring_partner_id=command.referring_partner_id,
                status=ReferralStatus.SUBMITTED.value,
                participant_pseudonym=pseudonym,
                participant_sealed=vault.seal(command.participant),
                needs=msgspec.to_builtins(command.needs),
                reason=command.reason,
                preferred_channel=command.preferred_channel.value,
                contact_person=msgspec.to_builtins(command.contact_person),
                consent=msgspec.to_builtins(command.consent),
                submitted_at=now,
                updated_at=now,
            )
        )
        await tx.session.execute(
            store.referral_history.insert().values(
                referral_id=referral_id, status=ReferralStatus.SUBMITTED.value, at=now, actor=actor.subject
            )
        )
        await tx.stage(
            ReferralSubmitted(
                referral_id=referral_id,
                participant_pseudonym=pseudonym,
                referring_partner_id=command.referring_partner_id,
                library=command.library,
                municipality=library_municipality,
                needs=command.needs,
                submitted_at=now,
            ),
            municipality=library_municipality,
            library=command.library,
        )
        row = await store.find_referral(tx.session, referral_id)
    assert row is not None
    return queries.referral_view(row, vault, actor)


async def remember_library(tx: Transaction, envelope: Envelope, event: LibraryRegistered) -> None:
    await store.remember_library(tx.session, event.library, event.municipality)


async def remember_partner(tx: Transaction, envelope: Envelope, event: PartnerRegistered) -> None:
    await store.remember_partner(tx.session, event.partner_id, event.municipality, event.name)
