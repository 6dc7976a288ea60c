"""Routes for referrals: submit, and read one."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from shared.contracts.referrals import GetReferral, ReferralView, SubmitReferral
from shared.rpc import RpcClient
from shared.tenancy import Actor


class ReferralController(Controller):
    path = "/api/v1/referrals"
    tags = ["referrals"]

    @post("/", summary="Submit a referral (warm, with recorded consent)")
    async def submit(
        self, data: JSONBody[SubmitReferral], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> ReferralView:
        return await rpc.call("referrals", "submit", actor, data, ReferralView)

    @get("/{referral_id:uuid}", summary="One referral, as far as the caller may see it")
    async def get_one(
        self, referral_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> ReferralView:
        return await rpc.call("referrals", "get", actor, GetReferral(referral_id=referral_id), ReferralView)
