"""A partner's own organisation, for its people: its record as the municipality's libraries see it, its status
and partnerships, and the contact details it keeps current itself (e-mail, phone, website, skill areas,
addresses; an emptied field is cleared); and for everyone who may see a partner, its history (every change of the
partner and of the partnerships the visitor sees). The same operations as GET/PATCH /api/v1/partners/{id},
GET /api/v1/partnerships and GET /api/v1/partners/{id}/history."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from gateway.console import forms, paging
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.network_forms import partner_values, typed
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.organisations import (
    AddressKind,
    GetPartner,
    PartnerChanges,
    PartnerView,
    UpdatePartner,
)
from shared.contracts.partners.api.partnerships import (
    GetPartnerHistory,
    ListPartnerships,
)
from shared.contracts.vocabulary import SkillArea
from shared.errors import PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

# The fields a partner keeps itself (the partners service's SELF_SERVICE_FIELDS, but contacts: not on this form).
OWN_FIELDS = ("email", "phone", "website")
# Changed fields a history line names, by the label the forms use.
FIELD_LABELS = {
    "name": "partner_form.name",
    "kind": "network.kind",
    "chamber_of_commerce_number": "partner_form.kvk",
    "email": "person.email",
    "phone": "person.phone",
    "website": "partner_form.website",
    "skill_areas": "network.skill_areas",
    "addresses": "partner_form.addresses",
    "contacts": "network.contacts",
    "status": "network.status",
    "roles": "partnership_form.roles",
    "library_contributions": "partnership_form.library_brings",
    "partner_contributions": "partnership_form.partner_brings",
    "starts_on": "partnership_form.starts_on",
    "ends_on": "partnership_form.ends_on",
    "review_on": "network.review_on",
    "note": "partnership_form.note",
}
ACTIONS = ("register", "create", "update", "activate", "suspend", "resume", "reactivate", "end", "review_due")


def own_changes(form: Any) -> PartnerChanges:
    """The partner's own form as a merge patch: an emptied field is cleared, emptied address rows go."""
    data: dict[str, Any] = {name: forms.text(form, name) for name in OWN_FIELDS}
    data |= {
        "skill_areas": form.getall("skill_areas", []),
        "addresses": forms.addresses(form),
        "expected_version": forms.number(form, "expected_version"),
    }
    return msgspec.convert(data | forms.open_data(form), PartnerChanges)


def own_partner(actor: Actor) -> UUID:
    assert actor.partner is not None  # a partner's token always names it (the gateway checks)
    return UUID(actor.partner)


class OrganisationPages(Controller):
    path = "/"

    @get("/organisation")
    async def organisation(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.PARTNER)
        partner = await self._partner(rpc, actor)
        notice = "done.organisation_updated" if done == "updated" else None
        return await self._page(visitor, rpc, actor, partner, partner_values(partner), notice=notice, cursor=cursor)

    @post("/organisation", status_code=303)
    async def update(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.PARTNER)
        form = await request.form()
        try:
            command = UpdatePartner(partner_id=own_partner(actor), changes=own_changes(form))
            await rpc.call(ops.UPDATE_PARTNER, actor, command)
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = explain(visitor.lang, exc)
            partner = await self._partner(rpc, actor)
            return await self._page(visitor, rpc, actor, partner, typed(form), problem=problem)
        return Redirect(f"{PREFIX}/organisation?done=updated", status_code=303)

    @get("/network/partners/{partner_id:uuid}/history")
    async def history(
        self, partner_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR, Role.PARTNER)
        partner, found, parties = await asyncio.gather(
            rpc.call(ops.GET_PARTNER, actor, GetPartner(partner_id=partner_id)),
            rpc.call(ops.PARTNER_HISTORY, actor, GetPartnerHistory(partner_id=partner_id)),
            load_names(rpc, actor),
        )
        return page(
            visitor,
            "partner_history.html",
            section="organisation" if actor.role is Role.PARTNER else "network",
            partner=partner,
            entries=list(reversed(found.items)),  # newest first
            field_labels=FIELD_LABELS,
            actions=ACTIONS,
            parties=parties,
            back=f"{PREFIX}/organisation" if actor.role is Role.PARTNER else f"{PREFIX}/network",
        )

    @staticmethod
    async def _partner(rpc: RpcClient, actor: Actor) -> PartnerView:
        return await rpc.call(ops.GET_PARTNER, actor, GetPartner(partner_id=own_partner(actor)))

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        partner: PartnerView,
        values: dict[str, Any],
        *,
        problem: Explanation | None = None,
        notice: str | None = None,
        cursor: str | None = None,
    ) -> Response[str]:
        """Its partnerships a page at a time (paging.PAGE), the next by the API's cursor (`/api/v1/partnerships`)."""
        partnerships = await paging.one_page(
            lambda at, limit: rpc.call(ops.LIST_PARTNERSHIPS, actor, ListPartnerships(limit=limit, cursor=at)),
            cursor,
            path=f"{PREFIX}/organisation",
        )
        return page(
            visitor,
            "organisation.html",
            status=problem.status if problem else 200,
            section="organisation",
            partner=partner,
            partnerships=partnerships.items,
            partnership_pages=partnerships,
            values=values,
            problem=problem,
            notice=notice,
            areas=list(SkillArea),
            address_kinds=list(AddressKind),
            address_rows=forms.ADDRESS_ROWS,
            open_data_choices=forms.OPEN_DATA_CHOICES,
        )
