"""On a referral's page, for staff of its library: give the participant a personal code for their page (shown once,
or as the printable card to hand over), take it back, and decide possible duplicates (link: the same person;
separate: not). The same operations as the API's /participant-code and /referrals/duplicates."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath

from gateway import participant_html
from gateway.console import forms, steps
from gateway.console.explain import Explanation
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.duplicates import DecideDuplicate, DuplicateStep
from shared.contracts.referrals.api.participant_page import (
    IssueParticipantCode,
    ParticipantCodeIssued,
    RevokeParticipantCode,
)
from shared.contracts.referrals.api.referrals import GetReferral
from shared.errors import InvalidInput
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


def refused(visitor: Visitor, problem: Explanation, referral_id: UUID) -> Response[str]:
    """The problem in plain words, with the way back to the referral."""
    return page(
        visitor,
        "error.html",
        status=problem.status,
        section="referrals",
        problem=problem,
        back=f"{PREFIX}/referrals/{referral_id}",
    )


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
        form = await request.form()

        def code() -> IssueParticipantCode:
            phone = forms.text(form, "contact_phone")
            return forms.convert({"referral_id": str(referral_id), "contact_phone": phone}, IssueParticipantCode)

        async def shown_once(issued: ParticipantCodeIssued) -> Response[str]:
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

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.ISSUE_PARTICIPANT_CODE, actor, code()),
            done=shown_once,
            again=lambda problem: refused(visitor, problem, referral_id),
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
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.ISSUE_PARTICIPANT_CODE, actor, IssueParticipantCode(referral_id=referral_id)),
            done=lambda issued: participant_html.printable_card(issued, str(request.base_url)).response(201, NO_STORE),
            again=lambda problem: refused(visitor, problem, referral_id),
        )

    @post("/participant-code/revoke", status_code=303)
    async def revoke(
        self, referral_id: FromPath[UUID], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.REVOKE_PARTICIPANT_CODE, actor, RevokeParticipantCode(referral_id=referral_id)),
            done=lambda revoked: (
                f"{PREFIX}/referrals/{referral_id}?done=code_{'revoked' if revoked.revoked else 'none'}"
            ),
            again=lambda problem: refused(visitor, problem, referral_id),
        )

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
        form = await request.form()
        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.DECIDE_DUPLICATE, actor, duplicate_decision(form, warning_id)),
            # Only reached once the decision converted, so `step` is one of DuplicateStep's values.
            done=f"{PREFIX}/referrals/{referral_id}?done=duplicate_{forms.text(form, 'step')}",
            again=lambda problem: refused(visitor, problem, referral_id),
        )
