"""Routes for the partner network: municipalities, libraries, partners, and a partner's feed."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from shared.contracts.partners import (
    FeedPage,
    GetFeed,
    GetPartner,
    LibraryView,
    ListPartners,
    MunicipalityView,
    PartnerKind,
    PartnerList,
    PartnerView,
    RegisterLibrary,
    RegisterMunicipality,
    RegisterPartner,
)
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

    @post("/", summary="Register a partner organisation")
    async def register(
        self, data: JSONBody[RegisterPartner], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PartnerView:
        return await rpc.call("partners", "register_partner", actor, data, PartnerView)

    @get("/", summary="Partners the caller may see")
    async def list_partners(
        self, actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient], kind: FromQuery[PartnerKind | None] = None
    ) -> PartnerList:
        return await rpc.call("partners", "list_partners", actor, ListPartners(kind=kind), PartnerList)

    @get("/{partner_id:uuid}", summary="One partner organisation")
    async def get_one(
        self, partner_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> PartnerView:
        return await rpc.call("partners", "get_partner", actor, GetPartner(partner_id=partner_id), PartnerView)

    @get("/{partner_id:uuid}/feed", summary="The partner's own event feed, oldest first, after a position")
    async def feed(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        after: FromQuery[Annotated[int, Parameter(ge=0)]] = 0,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=200)]] = 50,
    ) -> FeedPage:
        return await rpc.call(
            "partners", "get_feed", actor, GetFeed(partner_id=partner_id, after=after, limit=limit), FeedPage
        )
