"""The participant's rights as one person, for the library's staff: the requests participants made on their own
page (export, erasure, revocation, another date) waiting for the library; find the person (by one of their
referrals, or by name and birth date typed in a form, never in an address), download everything the library
holds about them as JSON, or erase them from all its referrals."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from gateway.console import forms, paging
from gateway.console.explain import Explanation, explain
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import download, page
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.participant_page import (
    ChangeRequestStatus,
    ChangeRequestView,
    HandleChangeRequest,
    ListChangeRequests,
)
from shared.contracts.referrals.api.person import AskOtherLibraries, PersonErased, PersonLookup
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role


def person_of(form: FormMultiDict) -> dict[str, Any]:
    """The referral the form came from, or the name and birth date typed into it."""
    referral_id = forms.uuid(form, "referral_id")
    if referral_id is not None:
        return {"referral_id": referral_id}
    return {"name": forms.text(form, "name"), "birth_date": forms.local_date(form, "birth_date", "birth_date")}


def lookup_of(form: FormMultiDict) -> PersonLookup:
    return forms.convert(person_of(form), PersonLookup)


# A typed name that is too long, or a right that is none, is the visitor's mistake: said on the page, not a 500.
MISTAKES = (PartnernetError, msgspec.ValidationError)


class PersonPages(Controller):
    path = "/people"

    @get("/")
    async def people(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        referral_id: FromQuery[UUID | None] = None,
        done: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The page, with a page of the library's open requests (paging.PAGE), the next by the API's cursor."""
        actor = visitor.signed_in(Role.STAFF)
        chosen = str(referral_id) if referral_id else None
        requests = await open_requests(rpc, actor, cursor, chosen)
        notice = "done.request_handled" if done == "handled" else None
        return self._page(visitor, referral_id=chosen, requests=requests, notice=notice)

    @post("/requests/{request_id:uuid}/handle", status_code=303)
    async def handle(
        self,
        request_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Staff did what the participant asked (called back, exported, erased, recorded the revocation)."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        try:
            body = HandleChangeRequest(request_id=request_id, expected_version=forms.number(form, "expected_version"))
            await rpc.call(ops.HANDLE_CHANGE_REQUEST, actor, body)
        except MISTAKES as exc:
            return self._page(visitor, problem=explain(visitor.lang, exc))
        return Redirect(f"{PREFIX}/people?done=handled#h-requests", status_code=303)

    @post("/export", status_code=200)
    async def export(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        """Everything the library holds about the person as a JSON file, for staff to hand over."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        try:
            exported = await rpc.call(ops.EXPORT_PERSON, actor, lookup_of(form))
        except MISTAKES as exc:
            return await self._again(visitor, rpc, actor, form, exc, forms.text(form, "referral_id"))
        stamp = exported.exported_at.strftime("%Y%m%dT%H%M%S")
        return download(exported, f"person-{exported.library}-{stamp}.json")

    @post("/erase", status_code=200)
    async def erase(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        """Erase on the person's request; the form asks to confirm, as it cannot be undone."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        referral_id = forms.text(form, "referral_id")
        try:
            if forms.text(form, "confirm") != "yes":
                raise InvalidInput("confirm that the person's personal data is to be erased")
            erased = await rpc.call(ops.ERASE_PERSON, actor, lookup_of(form))
        except MISTAKES as exc:
            return await self._again(visitor, rpc, actor, form, exc, referral_id)
        if referral_id:
            return Redirect(f"{PREFIX}/referrals/{referral_id}?done=person_erased", status_code=303)
        return self._page(visitor, erased=erased)

    @post("/ask-other-libraries", status_code=200)
    async def ask_other_libraries(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        """The person asked at the desk for their data (or its erasure) at every library of the municipality."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        referral_id = forms.text(form, "referral_id")
        try:
            body = forms.convert(person_of(form) | {"right": forms.text(form, "right")}, AskOtherLibraries)
            await rpc.call(ops.ASK_OTHER_LIBRARIES, actor, body)
        except MISTAKES as exc:
            return await self._again(visitor, rpc, actor, form, exc, referral_id)
        return self._page(visitor, referral_id=referral_id, notice="done.others_asked")

    async def _again(
        self,
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        form: FormMultiDict,
        error: Exception,
        referral_id: str | None,
    ) -> Response[str]:
        """A refused form: the page again with what was typed (shown back, never stored) and the open requests,
        which went missing from it."""
        typed = {name: forms.text(form, name) or "" for name in ("name", "birth_date")}
        requests = await open_requests(rpc, actor, None, referral_id)
        problem = explain(visitor.lang, error)
        return self._page(visitor, problem=problem, referral_id=referral_id, requests=requests, typed=typed)

    def _page(
        self,
        visitor: Visitor,
        *,
        problem: Explanation | None = None,
        referral_id: str | None = None,
        erased: PersonErased | None = None,
        requests: paging.Listing[ChangeRequestView] | None = None,
        notice: str | None = None,
        typed: dict[str, str] | None = None,
    ) -> Response[str]:
        return page(
            visitor,
            "people.html",
            status=problem.status if problem else 200,
            section="people",
            problem=problem,
            referral_id=referral_id,
            erased=erased,
            requests=requests.items if requests else None,
            pages=requests,
            notice=notice,
            typed=typed or {},
        )


async def open_requests(
    rpc: RpcClient, actor: Actor, cursor: str | None, referral_id: str | None
) -> paging.Listing[ChangeRequestView]:
    """A page of the library's open requests (paging.PAGE), the next by the API's cursor."""
    return await paging.one_page(
        lambda at, limit: rpc.call(
            ops.LIST_CHANGE_REQUESTS,
            actor,
            ListChangeRequests(status=ChangeRequestStatus.OPEN, limit=limit, cursor=at),
        ),
        cursor,
        path=f"{PREFIX}/people",
        keep={"referral_id": referral_id},
    )
