"""Referral pages: the inbox (incoming and outgoing, overdue first, live), one referral with the steps of its
lifecycle that the visitor's side may take, and the form to submit one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
import nats.errors
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, ServerSentEvent

from gateway.auth import Caller
from gateway.console import forms, paging
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.participant_tools import DONE as TOOLS_DONE
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from gateway.live import follow_subscription, library_referrals_subject, subscribe_from
from gateway.stream_guard import LiveStreams
from shared.clock import LOCAL_TIME
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.partnerships import ListPartnerships, PartnershipStatus
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.agreements import ListReferralCounterparts
from shared.contracts.referrals.api.referrals import (
    Arrival,
    ConsentState,
    ContactChannel,
    GetReferral,
    ListDirection,
    ListReferrals,
    ReferralDirection,
    ReferralStatus,
    ReferralStep,
    ReferralSummary,
    ReferralView,
)
from shared.contracts.referrals.events import (
    DeclineReason,
    RevocationChannel,
    SharedData,
    WithdrawReason,
)
from shared.contracts.vocabulary import Page, SkillArea
from shared.errors import PartnernetError, ServiceUnavailable
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

S = ReferralStatus
INBOX_ROLES = (Role.STAFF, Role.COORDINATOR, Role.PARTNER)
SUBMIT_ROLES = (Role.STAFF, Role.PARTNER)
PARTNER_POLL_SECONDS = 3
# History steps that leave the status as it was: the line says what happened (`history.<step>`) instead of
# repeating the status (after an erasure a completed referral read "afgerond" twice).
HISTORY_STEPS = (
    "anonymise",
    "request_notification",
    "waitlist",
    "mark_overdue",
    "duplicate_linked",
    "duplicate_separate",
    "issue_participant_code",
    "revoke_participant_code",
    "participant_asked_right",
    "participant_asked_change",
    "revoke_consent",
    "consent_expired",
)

# Which steps the console offers; the referrals service decides (and refuses an illegal one with a 409).
RECEIVING_STEPS: dict[ReferralStatus, tuple[str, ...]] = {
    S.SUBMITTED: ("accept", "decline"),
    S.ACCEPTED: ("plan-intake",),
    S.INTAKE_PLANNED: ("plan-intake", "intake-held", "no-show"),
    S.INTAKE_HELD: ("complete",),
    S.ENROLLED: ("complete", "no-show"),
    S.NO_SHOW: ("plan-intake",),
}
REFERRING_STEPS: dict[ReferralStatus, tuple[str, ...]] = {
    status: ("withdraw",) for status in (S.SUBMITTED, S.ACCEPTED, S.INTAKE_PLANNED, S.INTAKE_HELD, S.ENROLLED)
}


@dataclass(frozen=True)
class Section:
    key: str  # "incoming", "outgoing" or "all"
    listing: paging.Listing[ReferralSummary]  # a page of it, with the links on (the API's cursor)


SECTIONS = ("incoming", "outgoing", "all")


def side_of(actor: Actor, referral: ReferralView) -> str | None:
    """The visitor's side of the referral: "receiving", "referring", or None (a coordinator; readers)."""
    to_library = referral.direction is ReferralDirection.TO_LIBRARY
    if actor.role is Role.STAFF and actor.library == referral.library:
        return "receiving" if to_library else "referring"
    if actor.role is Role.PARTNER and actor.partner is not None:
        if to_library and str(referral.referring_partner_id) == actor.partner:
            return "referring"
        if not to_library and str(referral.receiving_partner_id) == actor.partner:
            return "receiving"
    return None


def steps_for(actor: Actor, referral: ReferralView) -> tuple[str, ...]:
    side = side_of(actor, referral)
    table = RECEIVING_STEPS if side == "receiving" else REFERRING_STEPS if side == "referring" else {}
    steps = table.get(referral.status, ())
    if side is not None and referral.consent_state is ConsentState.GIVEN:
        steps += ("revoke-consent",)  # either side records what the participant told it, in any state
    return steps


async def load_inbox(
    rpc: RpcClient, actor: Actor, shown: str | None = None, cursor: str | None = None
) -> list[Section]:
    """Each section's first page, or for the section `shown` the page at `cursor` (the API's own cursor, as
    `GET /api/v1/referrals?cursor=` pages; one not of ours shows the first page): every referral can be reached page
    by page, a section at a time (`list_section` says which section the cursor is of)."""

    async def section(key: str, direction: ListDirection | None) -> Section:
        def fetch(at: str | None, limit: int) -> Awaitable[Page[ReferralSummary]]:
            return rpc.call(ops.LIST_REFERRALS, actor, ListReferrals(direction=direction, cursor=at, limit=limit))

        at = cursor if key == shown else None
        listing = await paging.one_page(fetch, at, path=f"{PREFIX}/inbox", keep={"list_section": key})
        return Section(key, listing)

    if actor.role is Role.COORDINATOR:
        return [await section("all", None)]
    return list(
        await asyncio.gather(section("incoming", ListDirection.INCOMING), section("outgoing", ListDirection.OUTGOING))
    )


def paging_query(sections: list[Section], shown: str | None, cursor: str | None) -> str:
    """The page shown, for the live refresh to fetch the same one (none when the cursor was not ours)."""
    if shown is None or not cursor or not any(s.listing.paged for s in sections):
        return ""
    return "?" + urlencode({"list_section": shown, "cursor": cursor})


class ReferralPages(Controller):
    path = "/"

    @get("/inbox")
    async def inbox(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        list_section: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*INBOX_ROLES)
        shown = list_section if list_section in SECTIONS else None
        sections, parties = await asyncio.gather(load_inbox(rpc, actor, shown, cursor), load_names(rpc, actor))
        return page(
            visitor,
            "inbox.html",
            section="referrals",
            sections=sections,
            parties=parties,
            rows_query=paging_query(sections, shown, cursor),
            live_url=f"{PREFIX}/live/referrals" if actor.role is Role.STAFF else None,
            poll_seconds=PARTNER_POLL_SECONDS if actor.role is Role.PARTNER else None,
        )

    @get("/inbox/rows")
    async def inbox_rows(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        list_section: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The inbox's lists alone: what the live feed (staff) or polling (partners) swaps in (the same page)."""
        actor = visitor.signed_in(*INBOX_ROLES)
        shown = list_section if list_section in SECTIONS else None
        sections, parties = await asyncio.gather(load_inbox(rpc, actor, shown, cursor), load_names(rpc, actor))
        return page(visitor, "_inbox_sections.html", sections=sections, parties=parties)

    @get("/live/referrals")
    async def live(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], state: State
    ) -> ServerSentEvent:
        """What happens to the referrals of the visitor's library, as it happens (the same stream as the API's), while
        the session's token holds (gateway/stream_guard.py)."""
        actor = visitor.signed_in(Role.STAFF)
        subject = library_referrals_subject(actor.municipality, actor.library)
        try:
            subscription = await subscribe_from(state.nats.jetstream(), subject, None)
        except (nats.errors.Error, OSError) as exc:
            raise ServiceUnavailable("the event stream is not reachable", service="referrals") from exc
        streams: LiveStreams = state.live_streams
        return ServerSentEvent(streams.follow(Caller(actor=actor), request.headers, follow_subscription(subscription)))

    @get("/referrals/{referral_id:uuid}")
    async def referral(
        self,
        referral_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*INBOX_ROLES)
        view = await rpc.call(ops.GET_REFERRAL, actor, GetReferral(referral_id=referral_id))
        notice = f"done.{done}" if done in (*forms.STEPS, *TOOLS_DONE, "submitted", "person_erased") else None
        return await self._detail(visitor, rpc, actor, view, notice=notice)

    @post("/referrals/{referral_id:uuid}/{step:str}", status_code=303)
    async def take_step(
        self,
        referral_id: FromPath[UUID],
        step: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        actor = visitor.signed_in(*INBOX_ROLES)
        if step not in forms.STEPS:
            raise NotFoundException(f"no step {step}")
        form = await request.form()
        try:
            operation, command = forms.referral_step(form, step)
            await rpc.call(operation, actor, ReferralStep(referral_id=referral_id, command=command))
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = explain(visitor.lang, exc)
            view = await rpc.call(ops.GET_REFERRAL, actor, GetReferral(referral_id=referral_id))
            values = {key: value for key, value in form.items() if key != "csrf_token"}
            return await self._detail(
                visitor, rpc, actor, view, problem=problem, open_step=step, values=values, status=problem.status
            )
        return Redirect(f"{PREFIX}/referrals/{referral_id}?done={step}", status_code=303)

    @get("/referrals/new")
    async def new_referral(self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]) -> Response[str]:
        actor = visitor.signed_in(*SUBMIT_ROLES)
        return await self._form(visitor, rpc, actor, values=await self._defaults(rpc, actor), problem=None)

    @post("/referrals", status_code=303)
    async def submit(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(*SUBMIT_ROLES)
        form = await request.form()
        try:
            body = forms.submit_referral(
                form,
                referring_partner_id=actor.partner if actor.role is Role.PARTNER else None,
                library=actor.library if actor.role is Role.STAFF else None,
                now=datetime.now(LOCAL_TIME),
            )
            view = await rpc.call(ops.SUBMIT_REFERRAL, actor, body)
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = explain(visitor.lang, exc)
            values: dict[str, Any] = {key: value for key, value in form.items() if key != "csrf_token"}
            values["needs"] = form.getall("needs", [])
            values["consent_shares"] = form.getall("consent_shares", [])
            return await self._form(visitor, rpc, actor, values=values, problem=problem, status=problem.status)
        return Redirect(f"{PREFIX}/referrals/{view.id}?done=submitted", status_code=303)

    # --- helpers

    @staticmethod
    async def _detail(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        view: ReferralView,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        open_step: str | None = None,
        values: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Response[str]:
        parties = await load_names(rpc, actor)
        return page(
            visitor,
            "referral.html",
            status=status,
            section="referrals",
            r=view,
            parties=parties,
            side=side_of(actor, view),
            steps=steps_for(actor, view),
            notice=notice,
            problem=problem,
            open_step=open_step,
            values=values or {},
            decline_reasons=list(DeclineReason),
            withdraw_reasons=list(WithdrawReason),
            revocation_channels=list(RevocationChannel),
            now_local=datetime.now(LOCAL_TIME).strftime("%Y-%m-%dT%H:%M"),
            history_steps=HISTORY_STEPS,
        )

    @staticmethod
    async def _defaults(rpc: RpcClient, actor: Actor) -> dict[str, Any]:
        now = datetime.now(LOCAL_TIME)
        return {
            "consent_given_at": now.strftime("%Y-%m-%dT%H:%M"),
            # None ticked: what the participant agreed to share is asked and chosen, never assumed (a consent given in
            # advance by the form is no consent; a hurried submit recorded all three).
            "consent_shares": [],
            "consent_valid_until": (now + timedelta(days=365)).date().isoformat(),
            "preferred_channel": ContactChannel.PHONE.value,
            "needs": [],
        }

    @staticmethod
    async def _form(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        *,
        values: dict[str, Any],
        problem: Explanation | None,
        status: int = 200,
    ) -> Response[str]:
        counterparts, complete = await active_counterparts(rpc, actor)
        return page(
            visitor,
            "referral_form.html",
            status=status,
            section="new",
            values=values,
            problem=problem,
            counterparts=counterparts,
            counterpart_options=paging.Everything(counterparts, complete),
            areas=list(SkillArea),
            channels=list(ContactChannel),
            shared_data=[shared.value for shared in SharedData],
            arrivals=[arrival.value for arrival in Arrival],
            today=datetime.now(LOCAL_TIME).date().isoformat(),
        )


async def active_counterparts(rpc: RpcClient, actor: Actor) -> tuple[list[tuple[str, str]], bool]:
    """Whom the visitor can refer to, chosen from its network (never typed): the other party of each of its active
    partnerships, and through the municipality's referral agreement with a partner every library of the
    municipality (for that partner) or that partner (for the library's staff); as (value, name) by name. A partner
    gets libraries (slug), staff partners (id). The partners service answers for the partnerships (at once after a
    change), the referrals service for what it accepts (the agreements, which it keeps). Every page of the
    partnerships and of the counterparts (paging.every); False with them when paging.OPTIONS_BOUND cut either short."""
    active = PartnershipStatus.ACTIVE
    found, reachable = await asyncio.gather(
        paging.every(
            lambda at, limit: rpc.call(
                partner_ops.LIST_PARTNERSHIPS, actor, ListPartnerships(status=active, limit=limit, cursor=at)
            )
        ),
        paging.every(
            lambda at, limit: rpc.call(
                ops.LIST_REFERRAL_COUNTERPARTS, actor, ListReferralCounterparts(limit=limit, cursor=at)
            )
        ),
    )
    if actor.role is Role.PARTNER:
        choices = {p.library: p.library_name or p.library for p in found.items}
        choices |= {c.library: c.name for c in reachable.items if c.library is not None}
    else:
        choices = {str(p.partner_id): p.partner_name for p in found.items if p.library == actor.library}
        choices |= {str(c.partner_id): c.name for c in reachable.items if c.partner_id is not None}
    return sorted(choices.items(), key=lambda choice: choice[1].casefold()), found.complete and reachable.complete
