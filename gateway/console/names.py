"""Names where people expect names: a library's or partner's registered name instead of its slug or id.

Loaded once for a request from the partners service (never kept across requests: a partner renamed a moment ago
shows its new name on the next page), within what the visitor may see. A name the visitor may not see, or a
partners service that does not answer, leaves the slug (or a short id) in its place: a page never fails for a name.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from uuid import UUID

from gateway.console import paging
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.organisations import GetPartner
from shared.contracts.partners.api.partnerships import ListPartnerships
from shared.contracts.partners.api.statistics import GetPartnersStatistics
from shared.errors import PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Names:
    libraries: dict[str, str] = field(default_factory=dict)  # slug → name
    partners: dict[str, str] = field(default_factory=dict)  # id → name

    def library(self, slug: str | None) -> str:
        if not slug:
            return "–"
        return self.libraries.get(slug, slug)


async def load_names(rpc: RpcClient, actor: Actor) -> Names:
    """The names of the libraries and partners the visitor works with, from the partners service's own reads:
    a partner sees itself and the libraries of its partnerships (every page of them, paging.every); staff,
    coordinators and operators the libraries and partners of their scope (the overview's figures name them, all)."""
    try:
        if actor.role is Role.PARTNER and actor.partner:
            own, partnerships = await asyncio.gather(
                rpc.call(ops.GET_PARTNER, actor, GetPartner(partner_id=UUID(actor.partner))),
                paging.every(
                    lambda at, limit: rpc.call(ops.LIST_PARTNERSHIPS, actor, ListPartnerships(limit=limit, cursor=at))
                ),
            )
            if not partnerships.complete:
                log.warning("names of %d partnerships loaded; slugs shown past them", len(partnerships.items))
            return Names(
                libraries={p.library: p.library_name for p in partnerships.items if p.library_name},
                partners={str(own.id): own.name},
            )
        if actor.role in (Role.STAFF, Role.COORDINATOR, Role.OPERATOR):
            figures = await rpc.call(ops.PARTNERS_STATISTICS, actor, GetPartnersStatistics())
            return Names(
                libraries={lib.library: lib.name for lib in figures.libraries},
                partners={str(p.partner_id): p.name for p in figures.partners},
            )
    except PartnernetError as exc:
        log.warning("names not loaded for the console (%s): slugs and ids shown instead", exc)
    return Names()
