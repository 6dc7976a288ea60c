"""The network's forms: staff and coordinators register and edit partners; a library's staff create and edit its
partnerships and take their steps (activate, suspend, resume, end). Each posts the same RPC operation as the API
(`rpc.partners.register_partner` …), with the version the form was filled in on, so a change made meanwhile is a
409 the page explains instead of being overwritten; a refused form comes back with what was typed and the problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.organisations import (
    AddressKind,
    ChangePartnerStatus,
    GetPartner,
    ListPartners,
    PartnerStatus,
    PartnerStep,
    PartnerView,
    UpdatePartner,
)
from shared.contracts.partners.api.partnerships import (
    ChangePartnershipStatus,
    Contribution,
    GetPartnership,
    PartnershipRole,
    PartnershipStatus,
    PartnershipStep,
    PartnershipView,
    UpdatePartnership,
)
from shared.contracts.partners.events import PartnerKind
from shared.contracts.vocabulary import SkillArea
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

PARTNER_EDITORS = (Role.STAFF, Role.COORDINATOR)
PARTNERSHIP_EDITORS = (Role.STAFF,)  # the library's own staff (the partners service says so again)
# Suspending, reactivating or ending a partner concerns every library of the municipality: its coordinator's.
PARTNER_STATUS_EDITORS = (Role.COORDINATOR,)
PARTNER_STEPS: dict[PartnerStatus, tuple[PartnerStep, ...]] = {
    PartnerStatus.ACTIVE: (PartnerStep.SUSPEND, PartnerStep.END),
    PartnerStatus.SUSPENDED: (PartnerStep.REACTIVATE, PartnerStep.END),
}
# Which steps the edit page offers in each status; the partners service decides (an illegal one is a 409).
STEPS: dict[PartnershipStatus, tuple[PartnershipStep, ...]] = {
    PartnershipStatus.DRAFT: (PartnershipStep.ACTIVATE, PartnershipStep.END),
    PartnershipStatus.ACTIVE: (PartnershipStep.SUSPEND, PartnershipStep.END),
    PartnershipStatus.SUSPENDED: (PartnershipStep.RESUME, PartnershipStep.END),
}
DONE = (
    "partner_registered",
    "partner_updated",
    "partner_step",
    "partnership_created",
    "partnership_updated",
    "partnership_step",
)


def typed(form: FormMultiDict) -> dict[str, Any]:
    """What was typed, to fill the form in again after a refusal (lists for the checkboxes)."""
    values: dict[str, Any] = {key: value for key, value in form.items() if key != "csrf_token"}
    for name in ("skill_areas", "roles", "library_contributions", "partner_contributions", "open_data"):
        values[name] = form.getall(name, [])
    values["addresses"] = forms.address_rows(form)
    return values


def partner_values(partner: PartnerView) -> dict[str, Any]:
    return {
        "name": partner.name,
        "kind": partner.kind.value,
        "chamber_of_commerce_number": partner.chamber_of_commerce_number or "",
        "email": partner.email or "",
        "phone": partner.phone or "",
        "website": partner.website or "",
        "skill_areas": [area.value for area in partner.skill_areas],
        "addresses": [msgspec.to_builtins(address) for address in partner.addresses],
        "expected_version": partner.version,
        "open_data": [choice for choice, on in msgspec.structs.asdict(partner.open_data).items() if on],
    }


def partnership_values(partnership: PartnershipView) -> dict[str, Any]:
    return {
        "partner_id": str(partnership.partner_id),
        "roles": [role.value for role in partnership.roles],
        "library_contributions": [c.value for c in partnership.library_contributions],
        "partner_contributions": [c.value for c in partnership.partner_contributions],
        "starts_on": partnership.starts_on.isoformat(),
        "ends_on": partnership.ends_on.isoformat() if partnership.ends_on else "",
        "review_on": partnership.review_on.isoformat() if partnership.review_on else "",
        "note": partnership.note or "",
        "expected_version": partnership.version,
    }


def done(what: str) -> str:
    return f"{PREFIX}/network?done={what}"


class NetworkForms(Controller):
    path = "/network"

    # --- partners

    @get("/partners/new")
    async def new_partner(self, visitor: NamedDependency[Visitor]) -> Response[str]:
        visitor.signed_in(*PARTNER_EDITORS)
        return self._partner_form(visitor, None, {"skill_areas": [], "addresses": []}, None)

    @post("/partners", status_code=303)
    async def register_partner(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(*PARTNER_EDITORS)
        form = await request.form()
        return await steps.submit(
            visitor,
            lambda: rpc.call(
                ops.REGISTER_PARTNER, actor, forms.register_partner(form, municipality=actor.municipality)
            ),
            done=done("partner_registered"),
            again=lambda problem: self._partner_form(visitor, None, typed(form), problem, status=problem.status),
        )

    @get("/partners/{partner_id:uuid}/edit")
    async def edit_partner(
        self, partner_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(*PARTNER_EDITORS)
        partner = await rpc.call(ops.GET_PARTNER, actor, GetPartner(partner_id=partner_id))
        return self._partner_form(visitor, partner, partner_values(partner), None)

    @post("/partners/{partner_id:uuid}", status_code=303)
    async def update_partner(
        self,
        partner_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(*PARTNER_EDITORS)
        form = await request.form()
        return await steps.submit(
            visitor,
            lambda: rpc.call(
                ops.UPDATE_PARTNER, actor, UpdatePartner(partner_id=partner_id, changes=forms.partner_changes(form))
            ),
            done=done("partner_updated"),
            again=lambda problem: self._partner_again(rpc, actor, visitor, partner_id, problem, lambda _: typed(form)),
        )

    @post("/partners/{partner_id:uuid}/step", status_code=303)
    async def partner_step(
        self,
        partner_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Suspend, reactivate or end a partner (the coordinator); a refusal shows on its edit page."""
        actor = visitor.signed_in(*PARTNER_STATUS_EDITORS)
        form = await request.form()

        def command() -> ChangePartnerStatus:
            step, change = forms.partner_step(form)
            return ChangePartnerStatus(partner_id=partner_id, step=step, change=change)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.CHANGE_PARTNER_STATUS, actor, command()),
            done=done("partner_step"),
            again=lambda problem: self._partner_again(rpc, actor, visitor, partner_id, problem, partner_values),
        )

    # --- partnerships

    @get("/partnerships/new")
    async def new_partnership(
        self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(*PARTNERSHIP_EDITORS)
        values: dict[str, Any] = {"roles": [], "library_contributions": [], "partner_contributions": []}
        return await self._partnership_form(visitor, rpc, actor, None, values, None)

    @post("/partnerships", status_code=303)
    async def create_partnership(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(*PARTNERSHIP_EDITORS)
        form = await request.form()
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.CREATE_PARTNERSHIP, actor, forms.create_partnership(form, library=actor.library)),
            done=done("partnership_created"),
            again=lambda problem: self._partnership_form(
                visitor, rpc, actor, None, typed(form), problem, status=problem.status
            ),
        )

    @get("/partnerships/{partnership_id:uuid}/edit")
    async def edit_partnership(
        self, partnership_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(*PARTNERSHIP_EDITORS)
        found = await self._partnership(rpc, actor, partnership_id)
        return await self._partnership_form(visitor, rpc, actor, found, partnership_values(found), None)

    @post("/partnerships/{partnership_id:uuid}", status_code=303)
    async def update_partnership(
        self,
        partnership_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(*PARTNERSHIP_EDITORS)
        form = await request.form()
        return await steps.submit(
            visitor,
            lambda: rpc.call(
                ops.UPDATE_PARTNERSHIP,
                actor,
                UpdatePartnership(partnership_id=partnership_id, changes=forms.partnership_changes(form)),
            ),
            done=done("partnership_updated"),
            again=lambda problem: self._partnership_again(
                rpc, actor, visitor, partnership_id, problem, lambda _: typed(form)
            ),
        )

    @post("/partnerships/{partnership_id:uuid}/step", status_code=303)
    async def partnership_step(
        self,
        partnership_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Activate, suspend, resume or end; a refusal (an illegal step, a stale version) shows on its edit page."""
        actor = visitor.signed_in(*PARTNERSHIP_EDITORS)
        form = await request.form()

        def command() -> ChangePartnershipStatus:
            step, change = forms.partnership_step(form)
            return ChangePartnershipStatus(partnership_id=partnership_id, step=step, change=change)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.CHANGE_PARTNERSHIP_STATUS, actor, command()),
            done=done("partnership_step"),
            again=lambda problem: self._partnership_again(
                rpc, actor, visitor, partnership_id, problem, partnership_values
            ),
        )

    # --- helpers

    async def _partner_again(
        self,
        rpc: RpcClient,
        actor: Actor,
        visitor: Visitor,
        partner_id: UUID,
        problem: Explanation,
        values: Callable[[PartnerView], dict[str, Any]],
    ) -> Response[str]:
        """The partner's form again with the problem: what was typed, or (after a refused step) what is stored."""
        partner = await rpc.call(ops.GET_PARTNER, actor, GetPartner(partner_id=partner_id))
        return self._partner_form(visitor, partner, values(partner), problem, status=problem.status)

    async def _partnership_again(
        self,
        rpc: RpcClient,
        actor: Actor,
        visitor: Visitor,
        partnership_id: UUID,
        problem: Explanation,
        values: Callable[[PartnershipView], dict[str, Any]],
    ) -> Response[str]:
        found = await self._partnership(rpc, actor, partnership_id)
        return await self._partnership_form(visitor, rpc, actor, found, values(found), problem, status=problem.status)

    @staticmethod
    async def _partnership(rpc: RpcClient, actor: Actor, partnership_id: UUID) -> PartnershipView:
        query = GetPartnership(partnership_id=partnership_id)
        return await rpc.call(ops.GET_PARTNERSHIP, actor, query)

    @staticmethod
    def _partner_form(
        visitor: Visitor,
        partner: PartnerView | None,
        values: dict[str, Any],
        problem: Explanation | None,
        status: int = 200,
    ) -> Response[str]:
        return page(
            visitor,
            "partner_form.html",
            status=status,
            section="network",
            partner=partner,
            values=values,
            problem=problem,
            kinds=list(PartnerKind),
            areas=list(SkillArea),
            address_kinds=list(AddressKind),
            address_rows=forms.ADDRESS_ROWS,
            open_data_choices=forms.OPEN_DATA_CHOICES,
            may_change_status=visitor.role in PARTNER_STATUS_EDITORS,
            partner_steps=[step.value for step in PARTNER_STEPS.get(partner.status, ())] if partner else [],
        )

    @staticmethod
    async def _partnership_form(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        partnership: PartnershipView | None,
        values: dict[str, Any],
        problem: Explanation | None,
        status: int = 200,
    ) -> Response[str]:
        partners = paging.Everything[PartnerView]([])
        if partnership is None:  # a new one: with one of the municipality's active partners (every page of them)
            active = PartnerStatus.ACTIVE
            partners = await paging.every(
                lambda at, limit: rpc.call(
                    ops.LIST_PARTNERS, actor, ListPartners(status=active, limit=limit, cursor=at)
                )
            )
        return page(
            visitor,
            "partnership_form.html",
            status=status,
            section="network",
            partnership=partnership,
            partners=partners.items,
            partner_options=partners,
            values=values,
            problem=problem,
            roles=list(PartnershipRole),
            contributions=list(Contribution),
            steps=[step.value for step in STEPS.get(partnership.status, ())] if partnership else [],
        )
