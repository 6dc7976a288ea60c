"""A library's referral policy: how many days it has to answer a referral, when an unanswered one expires, and how
long participants' personal data is kept after a referral closes. Its staff set it; the municipality's coordinator
reads each library's. The same operations as GET/PUT /api/v1/referrals/policy."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from gateway.console import forms
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.referrals import GetReferralPolicy, ReferralPolicyView, SetReferralPolicy
from shared.errors import PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

FIELDS = ("response_days", "expiry_days", "retention_days")


class ReferralPolicyPages(Controller):
    path = "/referral-policy"

    @get("/")
    async def policy(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        library: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        notice = "done.referral_policy" if done == "saved" else None
        return await self._page(visitor, rpc, actor, library, notice=notice)

    @post("/", status_code=303)
    async def save(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)  # its own library's (the referrals service says so again)
        form = await request.form()
        try:
            data: dict[str, Any] = {name: forms.number(form, name) for name in FIELDS}
            data["expected_version"] = forms.number(form, "expected_version")
            await rpc.call(ops.SET_REFERRAL_POLICY, actor, forms.convert(data, SetReferralPolicy))
        except (PartnernetError, msgspec.ValidationError) as exc:
            typed = {name: forms.text(form, name) or "" for name in FIELDS}
            return await self._page(visitor, rpc, actor, None, problem=explain(visitor.lang, exc), typed=typed)
        return Redirect(f"{PREFIX}/referral-policy?done=saved", status_code=303)

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        library: str | None,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        typed: dict[str, str] | None = None,
    ) -> Response[str]:
        parties = await load_names(rpc, actor)
        policy: ReferralPolicyView | None = None
        if actor.role is Role.STAFF or library:
            try:
                policy = await rpc.call(ops.GET_REFERRAL_POLICY, actor, GetReferralPolicy(library=library or None))
            except (PartnernetError, msgspec.ValidationError) as exc:
                problem = problem or explain(visitor.lang, exc)
        values = typed or ({name: getattr(policy, name) for name in FIELDS} if policy else {})
        return page(
            visitor,
            "referral_policy.html",
            status=problem.status if problem else 200,
            section="referral_policy",
            policy=policy,
            values=values,
            may_set=actor.role is Role.STAFF,
            libraries=sorted(parties.libraries.items(), key=lambda item: item[1]),
            library=library,
            library_name=parties.library(policy.library) if policy else "",
            notice=notice,
            problem=problem,
        )
