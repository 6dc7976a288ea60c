"""Use cases of the partners service: load, decide (domain), save, stage events, commit."""

from __future__ import annotations

import msgspec
from sqlalchemy.exc import IntegrityError

from services.partners import domain, store
from shared.contracts import Envelope
from shared.contracts.partners import (
    LibraryRegistered,
    LibraryView,
    MunicipalityRegistered,
    MunicipalityView,
    PartnerRegistered,
    PartnerView,
    RegisterLibrary,
    RegisterMunicipality,
    RegisterPartner,
)
from shared.contracts.referrals import ReferralSubmitted
from shared.errors import Conflict, InvalidInput
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork


async def register_municipality(work: UnitOfWork, actor: Actor, command: RegisterMunicipality) -> MunicipalityView:
    domain.check_may_register_tenant(actor)
    try:
        async with work.transaction() as tx:
            await tx.session.execute(
                store.municipalities.insert().values(slug=command.slug, name=command.name, registered_at=tx.clock.now())
            )
            await tx.stage(
                MunicipalityRegistered(municipality=command.slug, name=command.name),
                municipality=command.slug,
                library=None,
            )
    except IntegrityError as exc:
        raise Conflict(f"municipality {command.slug} already exists") from exc
    return MunicipalityView(slug=command.slug, name=command.name)


async def register_library(work: UnitOfWork, actor: Actor, command: RegisterLibrary) -> LibraryView:
    domain.check_may_register_tenant(actor)
    try:
        async with work.transaction() as tx:
            if not await store.municipality_exists(tx.session, command.municipality):
                raise InvalidInput(f"municipality {command.municipality} does not exist")
            await tx.session.execute(
                store.libraries.insert().values(
                    slug=command.slug,
                    municipality=command.municipality,
                    name=command.name,
                    registered_at=tx.clock.now(),
                )
            )
            await tx.stage(
                LibraryRegistered(library=command.slug, municipality=command.municipality, name=command.name),
                municipality=command.municipality,
                library=command.slug,
            )
    except IntegrityError as exc:
        raise Conflict(f"library {command.slug} already exists") from exc
    return LibraryView(slug=command.slug, municipality=command.municipality, name=command.name)


async def register_partner(work: UnitOfWork, actor: Actor, command: RegisterPartner) -> PartnerView:
    domain.check_may_register_partner(actor, command.municipality)
    partner_id = new_id()
    async with work.transaction() as tx:
        if not await store.municipality_exists(tx.session, command.municipality):
            raise InvalidInput(f"municipality {command.municipality} does not exist")
        now = tx.clock.now()
        await tx.session.execute(
            store.partners.insert().values(
                id=partner_id,
                municipality=command.municipality,
                name=command.name,
                kind=command.kind.value,
                chamber_of_commerce_number=command.chamber_of_commerce_number,
                registered_at=now,
            )
        )
        await tx.stage(
            PartnerRegistered(
                partner_id=partner_id, municipality=command.municipality, name=command.name, kind=command.kind
            ),
            municipality=command.municipality,
            library=None,
        )
    return PartnerView(
        id=partner_id,
        name=command.name,
        kind=command.kind,
        municipality=command.municipality,
        chamber_of_commerce_number=command.chamber_of_commerce_number,
        registered_at=now,
    )


async def add_referral_to_feed(tx: Transaction, envelope: Envelope, event: ReferralSubmitted) -> None:
    """The referring partner follows its referral: the event (pseudonym only) goes into its feed."""
    await store.append_to_feed(
        tx.session,
        partner_id=event.referring_partner_id,
        event_id=envelope.id,
        event_type=envelope.type,
        time=envelope.time,
        library=envelope.library,
        data=msgspec.to_builtins(event),
    )
