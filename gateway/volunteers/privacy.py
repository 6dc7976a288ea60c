"""Routes for a volunteer's rights (export, erasure, by the library's staff), the library's retention policy,
and re-sealing with a new key (operators)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from gateway.dependencies import CursorQuery, LibraryQuery, LimitQuery, with_expected_version
from gateway.volunteers.calls import VERSIONED, call
from shared.contracts.referrals.api.participant_data import RotateEncryption, RotationResult
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.contracts.volunteers.api.access_log import ListVolunteerReads, VolunteerReadEntry
from shared.contracts.volunteers.api.personal_data import (
    EraseVolunteerData,
    ExportVolunteerData,
    GetVolunteerPolicy,
    SetVolunteerPolicy,
    VolunteerExport,
    VolunteerPolicyView,
)
from shared.contracts.volunteers.api.volunteers import VolunteerView
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class VolunteerPrivacyController(Controller):
    path = "/api/v1/volunteers"
    tags = ["volunteers"]
    dependencies = VERSIONED

    @get("/policy", summary="How long the library keeps leavers' personal data (defaults where not set)")
    async def policy(
        self, actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient], library: LibraryQuery = None
    ) -> VolunteerPolicyView:
        return await call(rpc, "get_policy", actor, GetVolunteerPolicy(library=library), VolunteerPolicyView)

    @put("/policy", summary="Set how long the library keeps leavers' personal data (its staff, its coordinator)")
    async def set_policy(
        self,
        data: JSONBody[SetVolunteerPolicy],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> VolunteerPolicyView:
        return await call(rpc, "set_policy", actor, with_expected_version(data, if_match_version), VolunteerPolicyView)

    @post("/encryption/rotate", status_code=200, summary="Re-seal personal data with the newest key (operators)")
    async def rotate_encryption(self, actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]) -> RotationResult:
        return await call(rpc, "rotate_encryption", actor, RotateEncryption(), RotationResult)

    @get("/access-log", summary="Who read volunteers' personal data in the caller's library, newest first (staff)")
    async def access_log(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[VolunteerReadEntry]:
        query = ListVolunteerReads(cursor=cursor, limit=limit)
        return await call(rpc, "access_log", actor, query, Page[VolunteerReadEntry])

    @get("/{volunteer_id:uuid}/access-log", summary="Who read this person's personal data, newest first (staff)")
    async def volunteer_access_log(
        self,
        volunteer_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[VolunteerReadEntry]:
        query = ListVolunteerReads(volunteer_id=volunteer_id, cursor=cursor, limit=limit)
        return await call(rpc, "access_log", actor, query, Page[VolunteerReadEntry])

    @get("/{volunteer_id:uuid}/export", summary="Everything held about the person (right of access; staff)")
    async def export(
        self, volunteer_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> VolunteerExport:
        return await call(rpc, "export", actor, ExportVolunteerData(volunteer_id=volunteer_id), VolunteerExport)

    @post(
        "/{volunteer_id:uuid}/erase",
        status_code=200,
        summary="Erase the person's personal data now; someone in service leaves it first (staff)",
    )
    async def erase(
        self, volunteer_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> VolunteerView:
        return await call(rpc, "erase", actor, EraseVolunteerData(volunteer_id=volunteer_id), VolunteerView)
