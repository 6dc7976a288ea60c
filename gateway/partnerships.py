"""Routes for partnerships between a library and a partner: drafted and kept by the library's own staff."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from gateway.dependencies import CursorQuery, LibraryQuery, LimitQuery, with_expected_version
from shared.contracts.partners.api.organisations import StatusChange
from shared.contracts.partners.api.partnerships import (
    ChangePartnershipStatus,
    CreatePartnership,
    GetPartnership,
    GetPartnershipHistory,
    History,
    ListPartnerships,
    PartnershipChanges,
    PartnershipRole,
    PartnershipStatus,
    PartnershipStep,
    PartnershipView,
    UpdatePartnership,
)
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class PartnershipController(Controller):
    path = "/api/v1/partnerships"
    tags = ["partnerships"]

    @post("/", summary="Draft a partnership of the caller's library with a partner (the library's staff)")
    async def create(
        self, data: JSONBody[CreatePartnership], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PartnershipView:
        return await rpc.call("partners", "create_partnership", actor, data, PartnershipView)

    @get("/", summary="Partnerships the caller may see: its library's, the municipality's, or the partner's own")
    async def list_partnerships(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        library: LibraryQuery = None,
        partner_id: FromQuery[UUID | None] = None,
        status: FromQuery[PartnershipStatus | None] = None,
        role: FromQuery[PartnershipRole | None] = None,
        review_before: FromQuery[date | None] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[PartnershipView]:
        query = ListPartnerships(
            library=library,
            partner_id=partner_id,
            status=status,
            role=role,
            review_before=review_before,
            cursor=cursor,
            limit=limit,
        )
        return await rpc.call("partners", "list_partnerships", actor, query, Page[PartnershipView])

    @get("/{partnership_id:uuid}", summary="One partnership")
    async def get_one(
        self, partnership_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PartnershipView:
        query = GetPartnership(partnership_id=partnership_id)
        return await rpc.call("partners", "get_partnership", actor, query, PartnershipView)

    @patch("/{partnership_id:uuid}", summary="Change roles, contributions, dates or the review date; If-Match")
    async def update(
        self,
        partnership_id: FromPath[UUID],
        data: JSONBody[PartnershipChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PartnershipView:
        command = UpdatePartnership(
            partnership_id=partnership_id, changes=with_expected_version(data, if_match_version)
        )
        return await rpc.call("partners", "update_partnership", actor, command, PartnershipView)

    @post(
        "/{partnership_id:uuid}/activate",
        status_code=200,
        summary="Activate a drafted partnership (not past its end date)",
    )
    async def activate(
        self,
        partnership_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[StatusChange | None] = None,
    ) -> PartnershipView:
        return await _step(rpc, actor, partnership_id, PartnershipStep.ACTIVATE, data, if_match_version)

    @post(
        "/{partnership_id:uuid}/suspend",
        status_code=200,
        summary="Suspend an active partnership (paused until resumed or ended; it still ends on its end date)",
    )
    async def suspend(
        self,
        partnership_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[StatusChange | None] = None,
    ) -> PartnershipView:
        return await _step(rpc, actor, partnership_id, PartnershipStep.SUSPEND, data, if_match_version)

    @post(
        "/{partnership_id:uuid}/resume",
        status_code=200,
        summary="Resume a suspended partnership (not past its end date)",
    )
    async def resume(
        self,
        partnership_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[StatusChange | None] = None,
    ) -> PartnershipView:
        return await _step(rpc, actor, partnership_id, PartnershipStep.RESUME, data, if_match_version)

    @get("/{partnership_id:uuid}/history", summary="Every change of the partnership: who, when, what it was and became")
    async def history(
        self, partnership_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> History:
        query = GetPartnershipHistory(partnership_id=partnership_id)
        return await rpc.call("partners", "partnership_history", actor, query, History)

    @post("/{partnership_id:uuid}/end", status_code=200, summary="End a partnership (final)")
    async def end(
        self,
        partnership_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[StatusChange | None] = None,
    ) -> PartnershipView:
        return await _step(rpc, actor, partnership_id, PartnershipStep.END, data, if_match_version)


async def _step(
    rpc: RpcClient,
    actor: Actor,
    partnership_id: UUID,
    step: PartnershipStep,
    data: StatusChange | None,
    if_match_version: int | None,
) -> PartnershipView:
    change = with_expected_version(data or StatusChange(), if_match_version)
    command = ChangePartnershipStatus(partnership_id=partnership_id, step=step, change=change)
    return await rpc.call("partners", "change_partnership_status", actor, command, PartnershipView)
