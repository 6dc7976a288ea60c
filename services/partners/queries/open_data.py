"""A municipality's open data as the partners service has it: its libraries, and the active partners that agreed
to publish, each with only what it chose (shared.contracts.partners.api.organisations.OpenDataChoices)."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa

from services.partners import store
from shared.contracts.partners.api.open_data import GetOpenData, OpenDataView, OpenLibrary, OpenPartner
from shared.contracts.partners.api.organisations import Address, AddressKind, OpenDataChoices, PartnerStatus
from shared.contracts.partners.events import PartnerKind
from shared.contracts.vocabulary import SkillArea
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

P = store.partners
L = store.libraries
M = store.municipalities


def open_partner(row: sa.Row) -> OpenPartner:
    choices = msgspec.convert(row.open_data, OpenDataChoices)
    addresses = msgspec.convert(row.addresses, list[Address]) if choices.addresses else []
    return OpenPartner(
        id=row.id,
        name=row.name,
        kind=PartnerKind(row.kind),
        skill_areas=[SkillArea(area) for area in row.skill_areas],
        website=row.website,
        email=row.email if choices.email else None,
        phone=row.phone if choices.phone else None,
        addresses=[a for a in addresses if a.kind is AddressKind.VISITING and a.open_data],
        choices=choices,
        updated_at=row.updated_at,
    )


async def open_data(work: UnitOfWork, actor: Actor, query: GetOpenData) -> OpenDataView:
    """Anyone may ask (it is published); a municipality that is not registered is not found."""
    async with work.read() as session:
        municipality = (await session.execute(sa.select(M).where(M.c.slug == query.municipality))).first()
        if municipality is None:
            raise NotFound(f"municipality {query.municipality} is not registered")
        libraries = (
            await session.execute(
                sa.select(L.c.slug, L.c.name, L.c.registered_at)
                .where(L.c.municipality == query.municipality)
                .order_by(L.c.name, L.c.slug)
            )
        ).all()
        partners = (
            await session.execute(
                sa.select(P)
                .where(
                    P.c.municipality == query.municipality,
                    P.c.status == PartnerStatus.ACTIVE.value,
                    P.c.open_data["publish"].as_boolean().is_(True),
                )
                .order_by(P.c.name, P.c.id)
            )
        ).all()
    return OpenDataView(
        municipality=municipality.slug,
        municipality_name=municipality.name,
        libraries=[OpenLibrary(slug=r.slug, name=r.name, registered_at=r.registered_at) for r in libraries],
        partners=[open_partner(r) for r in partners],
    )
