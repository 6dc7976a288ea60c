"""Who read a volunteer's personal data (the volunteers service's access log), for the library's staff: when,
who in which role and organisation, and why. The page shows no name, so opening it is no read of the person."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from gateway.console.session import Visitor
from gateway.console.views import page
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.access_log import ListVolunteerReads
from shared.rpc import RpcClient
from shared.tenancy import Role

READS_SHOWN = 200  # the newest; the person's export holds every one


class VolunteerReadPages(Controller):
    path = "/volunteers/{volunteer_id:uuid}/access-log"

    @get("/")
    async def reads(
        self, volunteer_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF)
        query = ListVolunteerReads(volunteer_id=volunteer_id, limit=READS_SHOWN)
        found = await rpc.call(ops.LIST_VOLUNTEER_READS, actor, query)
        return page(
            visitor,
            "volunteer_reads.html",
            section="volunteers",
            reads=found.items,
            more=found.next_cursor is not None,
            volunteer_id=volunteer_id,
        )
