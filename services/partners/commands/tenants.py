"""The tenants: municipalities and their libraries, registered by the platform's operators."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from services.partners import domain, store
from services.partners.store import organisations
from shared.contracts.partners.api.organisations import (
    LibraryView,
    MunicipalityView,
    RegisterLibrary,
    RegisterMunicipality,
    UpdateLibrary,
)
from shared.contracts.partners.events import LibraryRegistered, MunicipalityRegistered
from shared.errors import Conflict, InvalidInput, NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def register_municipality(work: UnitOfWork, actor: Actor, command: RegisterMunicipality) -> MunicipalityView:
    domain.check_may_register_tenant(actor)
    try:
        async with work.transaction() as tx:
            await organisations.add_municipality(
                tx.session, slug=command.slug, name=command.name, registered_at=tx.clock.now()
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
            await organisations.add_library(
                tx.session,
                slug=command.slug,
                municipality=command.municipality,
                name=command.name,
                email=command.email,
                phone=command.phone,
                registered_at=tx.clock.now(),
            )
            await tx.stage(
                LibraryRegistered(library=command.slug, municipality=command.municipality, name=command.name),
                municipality=command.municipality,
                library=command.slug,
            )
    except IntegrityError as exc:
        raise Conflict(f"library {command.slug} already exists") from exc
    return LibraryView(
        slug=command.slug,
        municipality=command.municipality,
        name=command.name,
        email=command.email,
        phone=command.phone,
    )


async def update_library(work: UnitOfWork, actor: Actor, command: UpdateLibrary) -> LibraryView:
    """Its general address set or cleared (a merge patch: left out, it stays)."""
    domain.check_may_change_library(actor, command.library)
    async with work.transaction() as tx:
        if await store.find_library(tx.session, command.library) is None:
            raise NotFound(f"library {command.library} not found")
        if touched := command.changes.touched():
            await organisations.update_library(tx.session, command.library, **touched)
        row = await store.find_library(tx.session, command.library)
    assert row is not None
    return LibraryView(slug=row.slug, municipality=row.municipality, name=row.name, email=row.email, phone=row.phone)
