"""On a referral's page, for staff of its library: give the participant a personal code for their page (shown once,
or as the printable card to hand over), take it back, and decide possible duplicates (link: the same person;
separate: not). The same operations as the API's /participant-code and /referrals/duplicates."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Redirect

from gateway import participant_html
from gateway.console import forms
from gateway.console.explain import explain
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.duplicates import DecideDuplicate, DuplicateStep
from shared.contracts.referrals.api.participant_page import IssueParticipantCode, RevokeParticipantCode
from shared.contracts.referrals.api.referrals import GetReferral
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Role

# Notices the referral's page shows after these (`?done=`).
DONE = ("code_revoked", "code_none", "duplicate_link", "duplicate_separate")
NO_STORE = {"Cache-Control": "no-store"}  # a code in clear is never kept by a browser or proxy


def duplicate_decision(form: FormMultiDict, warning_id: UUID) -> DecideDuplicate:
    """A form's decision on a possible duplicate (link or separate), with the version it was shown at."""
    try:
        step = DuplicateStep(forms.text(form, "step") or "")
    except ValueError:
        raise InvalidInput("not a decision on a duplicate - at `$.step`") from None
    return DecideDuplicate(warning_id=warning_id, step=step, expected_version=forms.number(form, "expected_version"))


class ParticipantTools(Controller):
    path = "/referrals/{referral_id:uuid}"

    @post("/participant-code/issue", status_code=201)
    async def issue(
        self,
        referral_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """The new code on a page of its own, this once (an earlier code stops working)."""
        actor = visitor.signed_in(Role.STAFF)
        try:
            phone = forms.text(await request.form(), "contact_phone")
            body = forms.convert({"referral_id": str(referral_id), "contact_phone": phone}, IssueParticipantCode)
            issued = await rpc.call(ops.ISSUE_PARTICIPANT_CODE, actor, body)
        except (PartnernetError, msgspec.ValidationError) as exc:
            return self._refused(visitor, explain(visitor.lang, exc), referral_id)
        view = await rpc.call(ops.GET_REFERRAL, actor, GetReferral(referral_id=referral_id))
        return page(
            visitor,
            "participant_code.html",
            status=201,
            headers=NO_STORE,
            section="referrals",
            r=view,
            issued=issued,
            page_url=str(request.base_url).rstrip("/") + issued.path,
        )

    @post("/participant-code/card", status_code=201)
    async def card(
        self,
        referral_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """A new code as the participant's printable card (Dutch in plain words, as the participant's page)."""
        actor = visitor.signed_in(Role.STAFF)
        try:
            issued = await rpc.call(ops.ISSUE_PARTICIPANT_CODE, actor, IssueParticipantCode(referral_id=referral_id))
        except PartnernetError as exc:
            return self._refused(visitor, explain(visitor.lang, exc), referral_id)
        card = participant_html.printable_card(issued, str(request.base_url))
        return Response(card, status_code=201, media_type=MediaType.HTML, headers=NO_STORE)

    @post("/participant-code/revoke", status_code=303)
    async def revoke(
        self, referral_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        try:
            revoked = await rpc.call(ops.REVOKE_PARTICIPANT_CODE, actor, RevokeParticipantCode(referral_id=referral_id))
        except PartnernetError as exc:
            return self._refused(visitor, explain(visitor.lang, exc), referral_id)
        what = "code_revoked" if revoked.revoked else "code_none"
        return Redirect(f"{PREFIX}/referrals/{referral_id}?done={what}", status_code=303)

    @post("/duplicates/{warning_id:uuid}", status_code=303)
    async def decide_duplicate(
        self,
        referral_id: FromPath[UUID],
        warning_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        try:
            command = duplicate_decision(await request.form(), warning_id)
            await rpc.call(ops.DECIDE_DUPLICATE, actor, command)
        except (PartnernetError, msgspec.ValidationError) as exc:
            return self._refused(visitor, explain(visitor.lang, exc), referral_id)
        return Redirect(f"{PREFIX}/referrals/{referral_id}?done=duplicate_{command.step.value}", status_code=303)

    @staticmethod
    def _refused(visitor: Visitor, problem: Any, referral_id: UUID) -> Response[str]:
        """The problem in plain words, with the way back to the referral."""
        return page(
            visitor,
            "error.html",
            status=problem.status,
            section="referrals",
            problem=problem,
            back=f"{PREFIX}/referrals/{referral_id}",
        )
