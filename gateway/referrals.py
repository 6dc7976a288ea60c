"""Routes for referrals: submit, read and list, the lifecycle steps, the participant's rights, the policy."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from gateway.dependencies import with_expected_version
from shared.contracts.referrals.api.participant_data import (
    AccessLogEntry,
    EraseParticipantData,
    ExportParticipantData,
    ListAccessLog,
    ParticipantExport,
    RotateEncryption,
    RotationResult,
)
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    GetReferral,
    GetReferralPolicy,
    ListDirection,
    ListReferrals,
    PlanIntake,
    RecordNoShow,
    ReferralPolicyView,
    ReferralStatus,
    ReferralStep,
    ReferralSummary,
    ReferralView,
    SetReferralPolicy,
    SubmitReferral,
    WithdrawReferral,
)
from shared.contracts.referrals.api.statistics import GetReferralStatistics, ReferralStatistics
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor

LimitQuery = FromQuery[Annotated[int, Parameter(ge=1, le=200)]]


class ReferralController(Controller):
    path = "/api/v1/referrals"
    tags = ["referrals"]

    @post("/", summary="Submit a referral (warm, with recorded consent): partner → library or library → partner")
    async def submit(
        self, data: JSONBody[SubmitReferral], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> ReferralView:
        return await rpc.call("referrals", "submit", actor, data, ReferralView)

    @get("/", summary="Referrals in the caller's scope: overdue first, then newest; filters and search")
    async def list_referrals(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: FromQuery[str | None] = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        direction: FromQuery[ListDirection | None] = None,
        status: FromQuery[ReferralStatus | None] = None,
        overdue: FromQuery[bool | None] = None,
        pseudonym: FromQuery[str | None] = None,
        submitted_from: FromQuery[date | None] = None,
        submitted_until: FromQuery[date | None] = None,
        library: FromQuery[str | None] = None,
        partner_id: FromQuery[UUID | None] = None,
    ) -> Page[ReferralSummary]:
        query = ListReferrals(
            cursor=cursor,
            limit=limit,
            direction=direction,
            status=status,
            overdue=overdue,
            pseudonym=pseudonym,
            submitted_from=submitted_from,
            submitted_until=submitted_until,
            library=library,
            partner_id=partner_id,
        )
        return await rpc.call("referrals", "list", actor, query, Page[ReferralSummary])

    @get("/statistics", summary="Counts by status, direction, need and outcome (no personal data)")
    async def statistics(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        library: FromQuery[str | None] = None,
        submitted_from: FromQuery[date | None] = None,
        submitted_until: FromQuery[date | None] = None,
    ) -> ReferralStatistics:
        query = GetReferralStatistics(library=library, submitted_from=submitted_from, submitted_until=submitted_until)
        return await rpc.call("referrals", "statistics", actor, query, ReferralStatistics)

    @get("/access-log", summary="Who read participants' personal data in the caller's library (staff)")
    async def access_log(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        referral_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[AccessLogEntry]:
        query = ListAccessLog(referral_id=referral_id, cursor=cursor, limit=limit)
        return await rpc.call("referrals", "access_log", actor, query, Page[AccessLogEntry])

    @get("/policy", summary="The library's response time, expiry and retention (defaults where not set)")
    async def policy(
        self, actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient], library: FromQuery[str | None] = None
    ) -> ReferralPolicyView:
        return await rpc.call("referrals", "get_policy", actor, GetReferralPolicy(library=library), ReferralPolicyView)

    @put("/policy", summary="Set the library's response time, expiry and retention (its staff)")
    async def set_policy(
        self,
        data: JSONBody[SetReferralPolicy],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralPolicyView:
        body = with_expected_version(data, if_match_version)
        return await rpc.call("referrals", "set_policy", actor, body, ReferralPolicyView)

    @post("/encryption/rotate", status_code=200, summary="Re-seal personal data with the newest key (operators)")
    async def rotate_encryption(self, actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]) -> RotationResult:
        return await rpc.call("referrals", "rotate_encryption", actor, RotateEncryption(), RotationResult)

    @get(
        "/{referral_id:uuid}", summary="One referral, as far as the caller may see it (reads of the person are logged)"
    )
    async def get_one(
        self, referral_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> ReferralView:
        return await rpc.call("referrals", "get", actor, GetReferral(referral_id=referral_id), ReferralView)

    # --- the lifecycle: the receiving side accepts, declines, plans, completes, records a no-show;
    # the referring side withdraws. Enrolment comes from the courses service, expiry from the clock.

    @post("/{referral_id:uuid}/accept", status_code=200, summary="Accept a submitted referral (receiving side)")
    async def accept(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[AcceptReferral | None] = None,
    ) -> ReferralView:
        command = with_expected_version(data or AcceptReferral(), if_match_version)
        return await _step(rpc, actor, "accept", referral_id, command)

    @post("/{referral_id:uuid}/decline", status_code=200, summary="Decline a submitted referral, with a reason")
    async def decline(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[DeclineReferral],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        return await _step(rpc, actor, "decline", referral_id, with_expected_version(data, if_match_version))

    @post("/{referral_id:uuid}/plan-intake", status_code=200, summary="Plan (or re-plan) the warm handover")
    async def plan_intake(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[PlanIntake],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        return await _step(rpc, actor, "plan_intake", referral_id, with_expected_version(data, if_match_version))

    @post("/{referral_id:uuid}/complete", status_code=200, summary="Complete with the outcome (goes to the referrer)")
    async def complete(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[CompleteReferral],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        return await _step(rpc, actor, "complete", referral_id, with_expected_version(data, if_match_version))

    @post("/{referral_id:uuid}/withdraw", status_code=200, summary="Withdraw a referral (referring side)")
    async def withdraw(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[WithdrawReferral],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        return await _step(rpc, actor, "withdraw", referral_id, with_expected_version(data, if_match_version))

    @post("/{referral_id:uuid}/no-show", status_code=200, summary="The participant did not come (receiving side)")
    async def no_show(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[RecordNoShow | None] = None,
    ) -> ReferralView:
        command = with_expected_version(data or RecordNoShow(), if_match_version)
        return await _step(rpc, actor, "record_no_show", referral_id, command)

    # --- the participant's rights, for the library's staff

    @get("/{referral_id:uuid}/access-log", summary="Who read this participant's personal data (staff)")
    async def referral_access_log(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: FromQuery[str | None] = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[AccessLogEntry]:
        query = ListAccessLog(referral_id=referral_id, cursor=cursor, limit=limit)
        return await rpc.call("referrals", "access_log", actor, query, Page[AccessLogEntry])

    @get("/{referral_id:uuid}/export", summary="Everything held about the participant (right of access; staff)")
    async def export(
        self, referral_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> ParticipantExport:
        body = ExportParticipantData(referral_id=referral_id)
        return await rpc.call("referrals", "export", actor, body, ParticipantExport)

    @post("/{referral_id:uuid}/erase", status_code=200, summary="Erase the participant's personal data (staff)")
    async def erase(
        self, referral_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> ReferralView:
        return await rpc.call("referrals", "erase", actor, EraseParticipantData(referral_id=referral_id), ReferralView)


async def _step(rpc: RpcClient, actor: Actor, operation: str, referral_id: UUID, command: object) -> ReferralView:
    return await rpc.call(
        "referrals", operation, actor, ReferralStep(referral_id=referral_id, command=command), ReferralView
    )
