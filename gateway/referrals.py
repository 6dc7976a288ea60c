"""Routes for referrals: submit, read and list, the lifecycle steps, the participant's rights, the policy.

Pass-through routes are made from the operations' declarations (gateway/routes.py); the lifecycle steps put the
path's referral id and the body together, so they are written here.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from litestar import Controller, Router, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from gateway.dependencies import with_expected_version
from gateway.routes import passthrough
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    PlanIntake,
    RecordIntakeHeld,
    RecordNoShow,
    ReferralStep,
    ReferralView,
    RevokeConsent,
    WithdrawReferral,
)
from shared.operations import Operation
from shared.rpc import RpcClient
from shared.tenancy import Actor

C = TypeVar("C")

PATH = "/api/v1/referrals"
ONE = "/{referral_id:uuid}"

referral_routes = Router(
    path=PATH,
    tags=["referrals"],
    route_handlers=[
        passthrough("POST", "/", ops.SUBMIT_REFERRAL, body=True, status_code=201),
        passthrough("GET", "/", ops.LIST_REFERRALS, handler_name="list_referrals"),
        passthrough("GET", "/statistics", ops.REFERRAL_STATISTICS),
        passthrough("GET", "/access-log", ops.LIST_ACCESS_LOG),
        passthrough("GET", "/policy", ops.GET_REFERRAL_POLICY, handler_name="policy"),
        passthrough("PUT", "/policy", ops.SET_REFERRAL_POLICY, body=True, if_match=True),
        # The person's name travels in the body, never in an address (gateway logs and spans show addresses).
        passthrough("POST", "/person/export", ops.EXPORT_PERSON, body=True, status_code=200),
        passthrough("POST", "/person/erase", ops.ERASE_PERSON, body=True, status_code=200),
        passthrough("POST", "/person/ask-other-libraries", ops.ASK_OTHER_LIBRARIES, body=True, status_code=200),
        passthrough("POST", "/encryption/rotate", ops.ROTATE_ENCRYPTION, status_code=200),
        passthrough("GET", "/agreements", ops.LIST_REFERRAL_AGREEMENTS, handler_name="referral_agreements"),
        passthrough("POST", "/agreements", ops.RECORD_REFERRAL_AGREEMENT, body=True, status_code=201),
        passthrough("POST", "/agreements/{agreement_id:uuid}/end", ops.END_REFERRAL_AGREEMENT, status_code=200),
        passthrough("GET", "/counterparts", ops.LIST_REFERRAL_COUNTERPARTS, handler_name="referral_counterparts"),
        passthrough("GET", ONE, ops.GET_REFERRAL, handler_name="get_one"),
        passthrough(
            "GET",
            f"{ONE}/access-log",
            ops.LIST_ACCESS_LOG,
            summary="Who read this participant's personal data (staff)",
            handler_name="referral_access_log",
        ),
        passthrough("GET", f"{ONE}/export", ops.EXPORT_PARTICIPANT_DATA),
        passthrough("POST", f"{ONE}/erase", ops.ERASE_PARTICIPANT_DATA, status_code=200),
    ],
)


class ReferralStepController(Controller):
    """The lifecycle: the receiving side accepts, declines, plans, records the intake held, completes, records a
    no-show; the referring side withdraws; either side records a revocation of consent. Enrolment comes from the
    courses service, expiry from the clock."""

    path = PATH
    tags = ["referrals"]

    @post(f"{ONE}/accept", status_code=200, summary="Accept a submitted referral (receiving side)")
    async def accept(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[AcceptReferral | None] = None,
    ) -> ReferralView:
        command = with_expected_version(data or AcceptReferral(), if_match_version)
        return await _step(rpc, actor, ops.ACCEPT_REFERRAL, referral_id, command)

    @post(f"{ONE}/decline", status_code=200, summary="Decline a submitted referral, with a reason")
    async def decline(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[DeclineReferral],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        command = with_expected_version(data, if_match_version)
        return await _step(rpc, actor, ops.DECLINE_REFERRAL, referral_id, command)

    @post(f"{ONE}/plan-intake", status_code=200, summary="Plan (or re-plan) the warm handover")
    async def plan_intake(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[PlanIntake],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        return await _step(rpc, actor, ops.PLAN_INTAKE, referral_id, with_expected_version(data, if_match_version))

    @post(
        f"{ONE}/intake-held",
        status_code=200,
        summary="The planned intake took place (receiving side); outcomes follow only after it",
    )
    async def intake_held(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[RecordIntakeHeld | None] = None,
    ) -> ReferralView:
        command = with_expected_version(data or RecordIntakeHeld(), if_match_version)
        return await _step(rpc, actor, ops.RECORD_INTAKE_HELD, referral_id, command)

    @post(f"{ONE}/complete", status_code=200, summary="Complete with the outcome (goes to the referrer)")
    async def complete(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[CompleteReferral],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        command = with_expected_version(data, if_match_version)
        return await _step(rpc, actor, ops.COMPLETE_REFERRAL, referral_id, command)

    @post(f"{ONE}/withdraw", status_code=200, summary="Withdraw a referral (referring side)")
    async def withdraw(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[WithdrawReferral],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        command = with_expected_version(data, if_match_version)
        return await _step(rpc, actor, ops.WITHDRAW_REFERRAL, referral_id, command)

    @post(f"{ONE}/no-show", status_code=200, summary="The participant did not come (receiving side)")
    async def no_show(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[RecordNoShow | None] = None,
    ) -> ReferralView:
        command = with_expected_version(data or RecordNoShow(), if_match_version)
        return await _step(rpc, actor, ops.RECORD_NO_SHOW, referral_id, command)

    @post(
        f"{ONE}/revoke-consent",
        status_code=200,
        summary="Record that the participant withdrew consent (either side); what is open is withdrawn",
    )
    async def revoke_consent(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[RevokeConsent],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> ReferralView:
        command = with_expected_version(data, if_match_version)
        return await _step(rpc, actor, ops.REVOKE_CONSENT, referral_id, command)


async def _step(
    rpc: RpcClient, actor: Actor, operation: Operation[ReferralStep[C], ReferralView], referral_id: UUID, command: C
) -> ReferralView:
    return await rpc.call(operation, actor, ReferralStep(referral_id=referral_id, command=command))
