"""Routes for the partner network: municipalities, libraries, partners and the partner map, a partner's feed.

A partner's token (or API key) reaches only the partner itself: its record, its feed, its credentials;
the partners service checks that again. Staff and coordinators register and keep the partners of their
municipality; suspending or ending a partner is the coordinator's.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from gateway.dependencies import (
    MAX_POSITION,
    CursorQuery,
    LibraryQuery,
    LimitQuery,
    MunicipalityQuery,
    SupportReason,
    with_expected_version,
)
from shared.contracts.partners.api.feeds import (
    FeedPage,
    GetFeed,
    GetNatsFeedAccess,
    IssueNatsCredentials,
    NatsFeedAccess,
    NatsFeedCredentials,
)
from shared.contracts.partners.api.organisations import (
    ChangePartnerStatus,
    GetPartner,
    LibraryView,
    ListPartners,
    MunicipalityView,
    PartnerChanges,
    PartnerStatus,
    PartnerStep,
    PartnerView,
    RegisterLibrary,
    RegisterMunicipality,
    RegisterPartner,
    StatusChange,
    UpdatePartner,
)
from shared.contracts.partners.api.partnerships import (
    GetPartnerHistory,
    GetPartnerMap,
    History,
    PartnerMapEntry,
    PartnershipRole,
)
from shared.contracts.partners.events import PartnerKind
from shared.contracts.vocabulary import DEFAULT_LIMIT, SkillArea
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class TenantController(Controller):
    path = "/api/v1"
    tags = ["tenants"]

    @post("/municipalities", summary="Register a municipality (operators)")
    async def register_municipality(
        self, data: JSONBody[RegisterMunicipality], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> MunicipalityView:
        return await rpc.call("partners", "register_municipality", actor, data, MunicipalityView)

    @post("/libraries", summary="Register a library of a municipality (operators)")
    async def register_library(
        self, data: JSONBody[RegisterLibrary], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> LibraryView:
        return await rpc.call("partners", "register_library", actor, data, LibraryView)


class PartnerController(Controller):
    path = "/api/v1/partners"
    tags = ["partners"]

    @post("/", summary="Register a partner organisation (staff and coordinators of its municipality)")
    async def register(
        self, data: JSONBody[RegisterPartner], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PartnerView:
        return await rpc.call("partners", "register_partner", actor, data, PartnerView)

    @get("/", summary="Partners the caller may see, by name; filters and search")
    async def list_partners(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        kind: FromQuery[PartnerKind | None] = None,
        status: FromQuery[PartnerStatus | None] = None,
        skill_area: FromQuery[SkillArea | None] = None,
        search: FromQuery[str | None] = None,
        municipality: MunicipalityQuery = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[PartnerView]:
        query = ListPartners(
            kind=kind,
            status=status,
            skill_area=skill_area,
            search=search,
            municipality=municipality,
            cursor=cursor,
            limit=limit,
        )
        return await rpc.call("partners", "list_partners", actor, query, Page[PartnerView])

    @get(
        "/map",
        summary="The municipality's partner map: who works with which library in which roles",
        description=(
            "Every library of the municipality sees the partners' contact details; a partnership only its "
            "library, the municipality's coordinator and the partner itself. `role` and `library` filter on "
            "the partnerships the caller may see."
        ),
    )
    async def partner_map(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        municipality: MunicipalityQuery = None,
        kind: FromQuery[PartnerKind | None] = None,
        role: FromQuery[PartnershipRole | None] = None,
        skill_area: FromQuery[SkillArea | None] = None,
        library: LibraryQuery = None,
        include_ended: FromQuery[bool] = False,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[PartnerMapEntry]:
        query = GetPartnerMap(
            municipality=municipality,
            kind=kind,
            role=role,
            skill_area=skill_area,
            library=library,
            include_ended=include_ended,
            cursor=cursor,
            limit=limit,
        )
        return await rpc.call("partners", "partner_map", actor, query, Page[PartnerMapEntry])

    @get("/{partner_id:uuid}", summary="One partner organisation")
    async def get_one(
        self, partner_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PartnerView:
        return await rpc.call("partners", "get_partner", actor, GetPartner(partner_id=partner_id), PartnerView)

    @get("/{partner_id:uuid}/history", summary="Every change of the partner and of the partnerships the caller sees")
    async def history(
        self, partner_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> History:
        query = GetPartnerHistory(partner_id=partner_id)
        return await rpc.call("partners", "partner_history", actor, query, History)

    @patch(
        "/{partner_id:uuid}",
        summary="Change a partner's record (the partner itself: its contact details); If-Match for the version",
    )
    async def update(
        self,
        partner_id: FromPath[UUID],
        data: JSONBody[PartnerChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> PartnerView:
        command = UpdatePartner(partner_id=partner_id, changes=with_expected_version(data, if_match_version))
        return await rpc.call("partners", "update_partner", actor, command, PartnerView)

    @post("/{partner_id:uuid}/suspend", status_code=200, summary="Suspend a partner: no new referrals from it")
    async def suspend(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[StatusChange | None] = None,
    ) -> PartnerView:
        return await _status(rpc, actor, partner_id, PartnerStep.SUSPEND, data, if_match_version)

    @post("/{partner_id:uuid}/reactivate", status_code=200, summary="Reactivate a suspended partner")
    async def reactivate(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[StatusChange | None] = None,
    ) -> PartnerView:
        return await _status(rpc, actor, partner_id, PartnerStep.REACTIVATE, data, if_match_version)

    @post("/{partner_id:uuid}/end", status_code=200, summary="End a partner, and with it its partnerships (final)")
    async def end(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[StatusChange | None] = None,
    ) -> PartnerView:
        return await _status(rpc, actor, partner_id, PartnerStep.END, data, if_match_version)

    @get("/{partner_id:uuid}/feed", summary="The partner's own event feed, oldest first, after a position")
    async def feed(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        after: FromQuery[Annotated[int, Parameter(ge=0, le=MAX_POSITION)]] = 0,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> FeedPage:
        return await rpc.call(
            "partners", "get_feed", actor, GetFeed(partner_id=partner_id, after=after, limit=limit), FeedPage
        )

    @get("/{partner_id:uuid}/feed/nats", summary="How the partner reads its feed over NATS (no secret)")
    async def nats_access(
        self, partner_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> NatsFeedAccess:
        query = GetNatsFeedAccess(partner_id=partner_id)
        return await rpc.call("partners", "nats_feed_access", actor, query, NatsFeedAccess)

    @post(
        "/{partner_id:uuid}/feed/nats-credentials",
        summary="Issue NATS credentials that read this partner's feed and nothing else (the token is shown once)",
        description=(
            "Connect with `nats.connect(servers, token=token, inbox_prefix=inbox_prefix)`, then "
            "`js.pull_subscribe_bind(durable=durable, stream=stream)`, `fetch` and `ack`: a durable consumer, so "
            "a partner that was away continues where it was. The token is an API key with scope `feed:read`; "
            "revoke it under /partners/{id}/api-keys."
        ),
    )
    async def issue_nats_credentials(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        support_reason: SupportReason = None,
    ) -> NatsFeedCredentials:
        command = IssueNatsCredentials(partner_id=partner_id, support_reason=support_reason)
        return await rpc.call("partners", "issue_nats_credentials", actor, command, NatsFeedCredentials)


async def _status(
    rpc: RpcClient,
    actor: Actor,
    partner_id: UUID,
    step: PartnerStep,
    data: StatusChange | None,
    if_match_version: int | None,
) -> PartnerView:
    change = with_expected_version(data or StatusChange(), if_match_version)
    command = ChangePartnerStatus(partner_id=partner_id, step=step, change=change)
    return await rpc.call("partners", "change_partner_status", actor, command, PartnerView)
