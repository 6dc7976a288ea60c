"""The municipality's referral agreements with partners: the coordinator records one (a partner then refers to,
and receives from, every library of the municipality without a partnership with each), sees them and ends one
(from then on the partner takes part in no new referrals under it and sees pseudonyms only); the libraries' staff
read them. The same operations as the API's /referrals/agreements."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.agreements import (
    AgreementStatus,
    EndReferralAgreement,
    ListReferralAgreements,
    RecordReferralAgreement,
)
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

FILTERS = ("in_force", "ended", "all")
DONE = ("agreement_recorded", "agreement_ended")
READERS = (Role.COORDINATOR, Role.STAFF)


class AgreementPages(Controller):
    path = "/agreements"

    @get("/")
    async def agreements(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, status or "in_force", cursor, notice=notice)

    @post("/", status_code=303)
    async def record(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.COORDINATOR)
        form = await request.form()
        values = {key: value for key, value in form.items() if key != "csrf_token"}
        data = {"partner_id": forms.text(form, "partner_id"), "note": forms.text(form, "note")}
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.RECORD_REFERRAL_AGREEMENT, actor, forms.convert(data, RecordReferralAgreement)),
            done=f"{PREFIX}/agreements?done=agreement_recorded",
            again=lambda problem: self._page(visitor, rpc, actor, "in_force", None, problem=problem, values=values),
        )

    @post("/{agreement_id:uuid}/end", status_code=303)
    async def end(
        self, agreement_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.COORDINATOR)
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.END_REFERRAL_AGREEMENT, actor, EndReferralAgreement(agreement_id=agreement_id)),
            done=f"{PREFIX}/agreements?status=ended&done=agreement_ended",
            again=lambda problem: self._page(visitor, rpc, actor, "all", None, problem=problem),
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        shown: str,
        cursor: str | None,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response[str]:
        path = f"{PREFIX}/agreements"
        agreements: paging.Listing[Any] = paging.nothing(path)
        in_force: set[str] = set()
        try:
            if shown not in FILTERS:
                raise InvalidInput("not a choice of agreements - at `$.status`")
            narrowed = None if shown == "all" else shown

            def listed(status: str | None) -> paging.Fetch[Any]:
                return lambda at, limit: rpc.call(
                    ops.LIST_REFERRAL_AGREEMENTS,
                    actor,
                    forms.convert({"status": status, "cursor": at, "limit": limit}, ListReferralAgreements),
                )

            # Every agreement in force (page by page with the API's cursor), to leave their partners out of the choice.
            agreements, current = await asyncio.gather(
                paging.one_page(listed(narrowed), cursor, path=path, keep={"status": shown}),
                paging.every(listed(AgreementStatus.IN_FORCE.value)),
            )
            in_force = {str(a.partner_id) for a in current.items}
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = problem or explain(visitor.lang, exc)
            shown = "in_force"
        names = await load_names(rpc, actor)
        # Partners the coordinator can still make an agreement with: the municipality's, none in force already.
        candidates = sorted(
            ((id_, name) for id_, name in names.partners.items() if id_ not in in_force),
            key=lambda choice: choice[1].casefold(),
        )
        return page(
            visitor,
            "agreements.html",
            status=problem.status if problem else 200,
            section="agreements",
            agreements=agreements.items,
            agreement_pages=agreements,
            shown=shown,
            filters=FILTERS,
            parties=names,
            candidates=candidates,
            may_manage=actor.role is Role.COORDINATOR,
            values=values or {},
            notice=notice,
            problem=problem,
        )
