"""Who read a volunteer's personal data (the volunteers service's access log), for the library's staff: when,
who in which role and organisation, and why, newest first, a page at a time (paging.PAGE), the next by the API's
cursor. The page shows no name, so opening it is no read of the person."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import paging
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.access_log import ListVolunteerReads
from shared.rpc import RpcClient
from shared.tenancy import Role


class VolunteerReadPages(Controller):
    path = "/volunteers/{volunteer_id:uuid}/access-log"

    @get("/")
    async def reads(
        self,
        volunteer_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF)
        found = await paging.one_page(
            lambda at, limit: rpc.call(
                ops.LIST_VOLUNTEER_READS, actor, ListVolunteerReads(volunteer_id=volunteer_id, limit=limit, cursor=at)
            ),
            cursor,
            path=f"{PREFIX}/volunteers/{volunteer_id}/access-log",
        )
        return page(
            visitor,
            "volunteer_reads.html",
            section="volunteers",
            reads=found.items,
            pages=found,
            volunteer_id=volunteer_id,
        )
