"""The participant as a person across referrals: their own plain-language page (`/p`, by personal code, no
login), the codes staff give them, the change requests they make there, and possible duplicate referrals of
the same person (the blind index) that staff link or keep separate.

The page is public: the code is the credential. So `/p` is guarded here, per client address (each gateway
replica counts on its own, like the general rate limit): at most `PAGE_REQUESTS_PER_MINUTE` code lookups a
minute, and after `WRONG_CODES_ALLOWED` wrong codes within `WRONG_CODE_WINDOW` seconds the client is locked
out for `LOCKOUT_SECONDS` (429 with Retry-After and a page that says so). Behind a proxy every participant
shares the proxy's address: configure the proxy to pass the client's own (uvicorn's `--forwarded-allow-ips`).
The code is kept out of the gateway's access log and the HTTP span's attributes, which show `/p/{code}` instead
(the ASGI instrumentation still names its own send/receive spans by the raw path: gateway/app.py could name
them by method with the OpenTelemetry config's `scope_span_details_extractor`).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, JSONBody, URLEncodedBody
from opentelemetry import trace

from gateway import participant_html as html
from gateway.participant_document import HEADERS as PAGE_HEADERS
from gateway.routes import passthrough, step
from gateway.templates import Page
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.duplicates import (
    DuplicateDecisionRequest,
    DuplicateStep,
)
from shared.contracts.referrals.api.participant_page import (
    ChangeRequestStep,
    IssueParticipantCode,
    OpenParticipantPage,
    ParticipantChangeKind,
    ParticipantCodeIssued,
    ParticipantCodeRequest,
    ParticipantCodeRevoked,
    RequestParticipantChange,
    RevokeParticipantCode,
)
from shared.errors import Conflict, InvalidInput, NotFound
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

# Whoever holds a code: the least an actor can be (a partner role naming no partner sees nothing anywhere).
# The referrals service authorises the page by the code itself, not by this actor.
PARTICIPANT = Actor(subject="participant-page", role=Role.PARTNER)

PAGE_REQUESTS_PER_MINUTE = 20
WRONG_CODES_ALLOWED = 5
WRONG_CODE_WINDOW = 15 * 60.0
LOCKOUT_SECONDS = 15 * 60.0
MAX_CODE_LENGTH = 40
ATTEMPTS_STATE_KEY = "participant_code_attempts"
WARNING = "/{warning_id:uuid}"


@dataclass
class _Client:
    requests: deque[float] = field(default_factory=deque)
    wrong: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class CodeAttempts:
    """Code lookups per client: a rate, and a lockout after repeated wrong codes. In memory, per replica."""

    def __init__(
        self,
        *,
        per_minute: int = PAGE_REQUESTS_PER_MINUTE,
        wrong_allowed: int = WRONG_CODES_ALLOWED,
        wrong_window: float = WRONG_CODE_WINDOW,
        lockout: float = LOCKOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.per_minute = per_minute
        self.wrong_allowed = wrong_allowed
        self.wrong_window = wrong_window
        self.lockout = lockout
        self.clock = clock
        self.max_clients = max_clients
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def _client(self, key: str) -> _Client:
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _Client()
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
        self._clients.move_to_end(key)
        return client

    def refuse(self, key: str) -> int | None:
        """Seconds to wait before the next try, or None: go ahead (and the try is counted)."""
        now = self.clock()
        client = self._client(key)
        if client.locked_until > now:
            return math.ceil(client.locked_until - now)
        while client.requests and client.requests[0] <= now - 60:
            client.requests.popleft()
        if len(client.requests) >= self.per_minute:
            return max(1, math.ceil(client.requests[0] + 60 - now))
        client.requests.append(now)
        return None

    def wrong_code(self, key: str) -> None:
        now = self.clock()
        client = self._client(key)
        while client.wrong and client.wrong[0] <= now - self.wrong_window:
            client.wrong.popleft()
        client.wrong.append(now)
        if len(client.wrong) >= self.wrong_allowed:
            client.locked_until = now + self.lockout
            client.wrong.clear()


def attempts_of(request: Request[Any, Any, Any]) -> CodeAttempts:
    attempts: CodeAttempts | None = request.app.state.get(ATTEMPTS_STATE_KEY)
    if attempts is None:
        attempts = CodeAttempts()
        request.app.state[ATTEMPTS_STATE_KEY] = attempts
    return attempts


def client_key(request: Request[Any, Any, Any]) -> str:
    return f"address:{request.client.host if request.client else 'unknown'}"


def page(content: Page, status_code: int = 200, **headers: str) -> Response[Any]:
    return content.response(status_code, {**PAGE_HEADERS, **headers})


def hide_code(request: Request[Any, Any, Any]) -> None:
    """Keep the credential out of the access log (it logs `scope["path"]`) and off the HTTP span."""
    request.scope["path"] = "/p/{code}"
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("http.target", "/p/{code}")
        span.set_attribute("http.url", str(request.base_url).rstrip("/") + "/p/{code}")


class CodeForm(msgspec.Struct, kw_only=True):
    code: str = ""


class ChangeForm(msgspec.Struct, kw_only=True):
    code: str = ""
    kind: str = ""


class ParticipantPageController(Controller):
    """The participant's page: no login, the code is the key. Not part of the API document."""

    path = "/p"
    include_in_schema = False

    @get("/", exclude_from_auth=True, summary="Type your personal code")
    async def form(self) -> Response[str]:
        return page(html.code_form())

    @post("/", exclude_from_auth=True, status_code=200, summary="Open the page of a typed code")
    async def typed(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[CodeForm], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        # The typed code goes in the body, never in an address: nothing to hide from logs.
        return await self._open(request, rpc, data.code)

    @get("/{code:str}", exclude_from_auth=True, summary="Open the page of a code from a link")
    async def linked(
        self, request: Request[Any, Any, Any], code: FromPath[str], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        hide_code(request)
        return await self._open(request, rpc, code)

    @post("/change", exclude_from_auth=True, status_code=200, summary="Ask the library to call about a change")
    async def change(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[ChangeForm], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        attempts, key = attempts_of(request), client_key(request)
        if (wait := attempts.refuse(key)) is not None:
            return page(html.locked(wait), 429, **{"Retry-After": str(wait)})
        try:
            kind = ParticipantChangeKind(data.kind)
        except ValueError:
            return page(html.code_form(message="Dat ging niet goed. Probeer het nog een keer."), 400)
        if not 1 <= len(data.code) <= MAX_CODE_LENGTH:
            attempts.wrong_code(key)
            return page(html.not_found(), 404)
        try:
            recorded = await rpc.call(
                ops.REQUEST_PARTICIPANT_CHANGE, PARTICIPANT, RequestParticipantChange(code=data.code, kind=kind)
            )
        except NotFound:
            attempts.wrong_code(key)
            return page(html.not_found(), 404)
        except Conflict as exc:
            if exc.extra.get("erased"):
                return page(html.erased(None), 410)
            if exc.extra.get("closed"):
                return page(html.nothing_to_change(data.code), 409)
            raise
        return page(html.change_recorded(recorded.kind, recorded.already_requested))

    async def _open(self, request: Request[Any, Any, Any], rpc: RpcClient, code: str) -> Response[str]:
        attempts, key = attempts_of(request), client_key(request)
        if (wait := attempts.refuse(key)) is not None:
            return page(html.locked(wait), 429, **{"Retry-After": str(wait)})
        if not 1 <= len(code) <= MAX_CODE_LENGTH:
            attempts.wrong_code(key)
            return page(html.not_found(), 404)
        try:
            found = await rpc.call(ops.OPEN_PARTICIPANT_PAGE, PARTICIPANT, OpenParticipantPage(code=code))
        except (NotFound, InvalidInput):
            attempts.wrong_code(key)
            return page(html.not_found(), 404)
        if not found.works:
            return page(html.erased(found.erased_at), 410)
        return page(html.participant_page(found, code))


class ParticipantCodeController(Controller):
    """Staff of the referral's library give the participant a personal code for their page, or take it back."""

    path = "/api/v1/referrals/{referral_id:uuid}/participant-code"
    tags = ["referrals"]

    @post("/", summary="Give the participant a personal code for their page (shown once; an earlier one stops)")
    async def issue(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        data: JSONBody[ParticipantCodeRequest | None] = None,
    ) -> ParticipantCodeIssued:
        return await _issue(rpc, actor, referral_id, data)

    @post(
        "/card",
        summary="The same, as a printable page to hand over (the code and where to type it; no QR code)",
        media_type=MediaType.HTML,
    )
    async def card(
        self,
        request: Request[Any, Any, Any],
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        data: JSONBody[ParticipantCodeRequest | None] = None,
    ) -> Response[str]:
        issued = await _issue(rpc, actor, referral_id, data)
        return page(html.printable_card(issued, str(request.base_url)), 201)

    @delete("/", status_code=200, summary="Take the participant's code back: it opens nothing any more")
    async def revoke(
        self, referral_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> ParticipantCodeRevoked:
        body = RevokeParticipantCode(referral_id=referral_id)
        return await rpc.call(ops.REVOKE_PARTICIPANT_CODE, actor, body)


async def _issue(
    rpc: RpcClient, actor: Actor, referral_id: UUID, data: ParticipantCodeRequest | None
) -> ParticipantCodeIssued:
    phone = data.contact_phone if data is not None else None
    body = IssueParticipantCode(referral_id=referral_id, contact_phone=phone)
    return await rpc.call(ops.ISSUE_PARTICIPANT_CODE, actor, body)


# What participants asked on their page (call me about another date, or I will not come), for the library's staff.
change_request_routes = Router(
    path="/api/v1/referrals/change-requests",
    tags=["referrals"],
    route_handlers=[
        passthrough(
            "GET",
            "/",
            ops.LIST_CHANGE_REQUESTS,
            summary="Participants' requests to change or cancel, of the caller's library, newest first",
            handler_name="list_requests",
        ),
        passthrough(
            "POST",
            "/{request_id:uuid}/handle",
            ops.HANDLE_CHANGE_REQUEST,
            body=ChangeRequestStep,
            if_match=True,
            status_code=200,
            summary="Mark a participant's request as handled",
            handler_name="handle",
        ),
    ],
)

# "Possible duplicate of referral X": the blind index's warnings, for the staff of the referral's library.
duplicate_routes = Router(
    path="/api/v1/referrals/duplicates",
    tags=["referrals"],
    route_handlers=[
        passthrough(
            "GET",
            "/",
            ops.LIST_DUPLICATE_WARNINGS,
            summary="Possible duplicate participants of the caller's library (no names: referral ids and a score)",
            handler_name="list_warnings",
        ),
        step(
            WARNING,
            ops.DECIDE_DUPLICATE,
            DuplicateStep.LINK,
            "The same person: link the referrals (both stay)",
            body=DuplicateDecisionRequest,
        ),
        step(
            WARNING,
            ops.DECIDE_DUPLICATE,
            DuplicateStep.SEPARATE,
            "Not the same person: dismiss the warning",
            body=DuplicateDecisionRequest,
        ),
    ],
)


PARTICIPANT_CONTROLLERS: list[type[Controller] | Router] = [
    ParticipantPageController,
    ParticipantCodeController,
    change_request_routes,
    duplicate_routes,
]
