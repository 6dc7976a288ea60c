"""The partner network: the municipality's partner map (who works with which library in which roles) and the
partnerships the visitor may see."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from gateway.console import paging
from gateway.console.names import load_names
from gateway.console.network_forms import DONE, PARTNER_EDITORS, PARTNERSHIP_EDITORS
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.partnerships import (
    GetPartnerMap,
    ListPartnerships,
    PartnershipStatus,
)
from shared.contracts.partners.events import PartnerKind
from shared.rpc import RpcClient
from shared.tenancy import Role


class NetworkPages(Controller):
    path = "/network"

    @get("/")
    async def network(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        kind: FromQuery[PartnerKind | None] = None,
        done: FromQuery[str | None] = None,
        map_cursor: FromQuery[str | None] = None,
        partnerships_cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The map and the partnerships a page each (paging.PAGE), the next by the API's own cursor
        (`GET /api/v1/partner-map?cursor=`, `GET /api/v1/partnerships?cursor=`)."""
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        keep = {"kind": kind.value if kind else None}
        path = f"{PREFIX}/network"
        partner_map, partnerships, parties = await asyncio.gather(
            paging.one_page(
                lambda at, limit: rpc.call(ops.PARTNER_MAP, actor, GetPartnerMap(kind=kind, limit=limit, cursor=at)),
                map_cursor,
                path=path,
                param="map_cursor",
                keep=keep,
            ),
            paging.one_page(
                lambda at, limit: rpc.call(ops.LIST_PARTNERSHIPS, actor, ListPartnerships(limit=limit, cursor=at)),
                partnerships_cursor,
                path=path,
                param="partnerships_cursor",
                keep=keep,
            ),
            load_names(rpc, actor),
        )
        order = {
            PartnershipStatus.ACTIVE: 0,
            PartnershipStatus.SUSPENDED: 1,
            PartnershipStatus.DRAFT: 2,
            PartnershipStatus.ENDED: 3,
        }
        return page(
            visitor,
            "network.html",
            section="network",
            entries=partner_map.items,
            map_pages=partner_map,
            # Ordered within the page shown; the pages follow the API's own order, so each shows once.
            partnerships=sorted(partnerships.items, key=lambda p: (order[p.status], p.partner_name)),
            partnership_pages=partnerships,
            kinds=list(PartnerKind),
            kind=kind,
            parties=parties,
            notice=f"done.{done}" if done in DONE else None,
            may_edit_partners=actor.role in PARTNER_EDITORS,
            may_manage_partnerships=actor.role in PARTNERSHIP_EDITORS,
        )
