"""The tenants a credential names: do they exist, and do they belong together?"""

from __future__ import annotations

from services.partners import store
from services.partners.domain import access
from shared.contracts.partners.api.organisations import ActorScope, ResolveActorScope
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def resolve_actor_scope(work: UnitOfWork, actor: Actor, query: ResolveActorScope) -> ActorScope:
    """The registered scope of a token: its library's and partner's municipality must be the one it names."""
    access.check_may_authenticate_keys(actor)
    municipality = query.municipality
    async with work.read() as session:
        if query.library is not None:
            library = await store.find_library(session, query.library)
            municipality = _same(municipality, library.municipality if library else None, f"library {query.library}")
        if query.partner is not None:
            partner = await store.find_partner(session, query.partner)
            municipality = _same(municipality, partner.municipality if partner else None, f"partner {query.partner}")
        if municipality is not None and not await store.municipality_exists(session, municipality):
            raise NotFound(f"municipality {municipality} is not registered")
    return ActorScope(municipality=municipality, library=query.library, partner=query.partner)


def _same(named: str | None, registered: str | None, what: str) -> str:
    if registered is None:
        raise NotFound(f"{what} is not registered")
    if named is not None and named != registered:
        raise NotFound(f"{what} is not in municipality {named}")
    return registered
