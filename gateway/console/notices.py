"""Notices by e-mail in the console: a person's own choice (staff, coordinators and partners' people), and for
operators the mail outbox and, where `partnernet up` runs its mail catcher, the messages it caught (so the whole
flow shows on one machine). Messages carry no participant's personal data, so an operator may read them."""

from __future__ import annotations

import asyncio
import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from gateway.console import forms, paging
from gateway.console.explain import Explanation, explain
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.notices import (
    GetNoticePreferences,
    ListMail,
    NoticePreferences,
    SetNoticePreferences,
)
from shared.contracts.partners.api.organisations import GetLibrary, LibraryChanges, LibraryView, UpdateLibrary
from shared.contracts.vocabulary import Page
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

CAUGHT_SHOWN = 50  # caught messages a page shows: each with its whole body, so fewer than a list's rows


@dataclass(frozen=True)
class CaughtMessage:
    key: str
    recipient: str
    subject: str
    sent: datetime | None
    body: str


def caught_messages(directory: Path | None) -> list[CaughtMessage]:
    """Every message of the mail catcher's Maildir, newest first (none when `up` runs no catcher)."""
    if directory is None or not directory.is_dir():
        return []
    found = []
    for key, message in mailbox.Maildir(directory, create=False).items():
        try:
            sent: datetime | None = parsedate_to_datetime(message["Date"]) if message["Date"] else None
        except (TypeError, ValueError):
            sent = None
        payload = message.get_payload(decode=True)
        charset = message.get_content_charset() or "utf-8"
        body = payload.decode(charset, errors="replace") if isinstance(payload, bytes) else ""
        found.append(CaughtMessage(key, str(message["To"] or ""), str(message["Subject"] or ""), sent, body))
    found.sort(key=lambda m: (m.sent or datetime.min.replace(tzinfo=UTC), m.key), reverse=True)
    return found


def caught_page(directory: Path | None, cursor: str | None, limit: int) -> Page[CaughtMessage]:
    """A page of the caught messages for `paging.one_page`: the cursor is the key of the last message shown, so a
    message caught meanwhile (it comes first) does not shift the later pages; a key no longer there is not a cursor."""
    found = caught_messages(directory)
    start = 0
    if cursor is not None:
        keys = [message.key for message in found]
        if cursor not in keys:
            raise InvalidInput("not a cursor of the caught messages")
        start = keys.index(cursor) + 1
    shown = found[start : start + min(limit, CAUGHT_SHOWN)]
    more = start + len(shown) < len(found)
    return Page(items=shown, next_cursor=shown[-1].key if more and shown else None)


class NoticePages(Controller):
    path = "/"

    @get("/notices")
    async def preferences(
        self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient], saved: FromQuery[int | None] = None
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR, Role.PARTNER)
        current = await rpc.call(ops.GET_NOTICE_PREFERENCES, actor, GetNoticePreferences())
        library = await library_of(rpc, actor)
        return _preferences_page(visitor, current, library, saved=bool(saved), library_saved=saved == 2)

    @post("/notices/library", status_code=303)
    async def library_address(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        """The library's general address, where its notices go while none of its staff chose (emptied: cleared)."""
        actor = visitor.signed_in(Role.STAFF)
        assert actor.library is not None
        form = await request.form()
        try:
            typed = {"email": forms.text(form, "library_email"), "phone": forms.text(form, "library_phone")}
            changes = msgspec.convert(typed, LibraryChanges)
            await rpc.call(ops.UPDATE_LIBRARY, actor, UpdateLibrary(library=actor.library, changes=changes))
        except (PartnernetError, msgspec.ValidationError) as exc:
            found = explain(visitor.lang, exc)  # about this form's field, not the person's own address
            name = "phone" if found.field and "phone" in found.field else "email"
            label = {"field": f"library_{name}", "field_label": visitor.t(f"notices.library_{name}")}
            field = label if found.field else {}
            problem = Explanation(**{**found.__dict__, **field})
            current = await rpc.call(ops.GET_NOTICE_PREFERENCES, actor, GetNoticePreferences())
            library = await library_of(rpc, actor)
            return _preferences_page(visitor, current, library, problem=problem, status=problem.status)
        return Redirect(f"{PREFIX}/notices?saved=2", status_code=303)

    @post("/notices", status_code=303)
    async def choose(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR, Role.PARTNER)
        form = await request.form()
        values = {
            "email": forms.text(form, "email"),
            "language": forms.text(form, "language"),
            "kinds": [kind for kind in form.getall("kinds", []) if kind],
            "expected_version": forms.number(form, "expected_version") or None,
        }
        try:
            command = forms.convert(values, SetNoticePreferences)
            await rpc.call(ops.SET_NOTICE_PREFERENCES, actor, command)
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = explain(visitor.lang, exc)
            current = await rpc.call(ops.GET_NOTICE_PREFERENCES, actor, GetNoticePreferences())
            library = await library_of(rpc, actor)
            return _preferences_page(visitor, current, library, problem=problem, values=values, status=problem.status)
        return Redirect(f"{PREFIX}/notices?saved=1", status_code=303)

    @get("/mail")
    async def mail(
        self,
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        cursor: FromQuery[str | None] = None,
        caught: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The outbox a page at a time with the API's cursor (`GET /api/v1/notices/mail?cursor=`), newest first, and
        beside it the catcher's messages a page at a time (`?caught=`); each pager keeps the other's place."""
        actor = visitor.signed_in(Role.OPERATOR)
        directory: Path | None = request.app.state.mail_catcher_dir

        async def caught_at(at: str | None, limit: int) -> Page[CaughtMessage]:
            return await asyncio.to_thread(caught_page, directory, at, limit)

        outbox, caught_listing = await asyncio.gather(
            paging.one_page(
                lambda at, limit: rpc.call(ops.LIST_MAIL, actor, ListMail(cursor=at, limit=limit)),
                cursor,
                path=f"{PREFIX}/mail",
                keep={"caught": caught},
            ),
            paging.one_page(caught_at, caught, path=f"{PREFIX}/mail", param="caught", keep={"cursor": cursor}),
        )
        catcher = directory is not None
        return page(visitor, "mail.html", section="mail", outbox=outbox, caught=caught_listing, catcher=catcher)


async def library_of(rpc: RpcClient, actor: Actor) -> LibraryView | None:
    """Staff's own library, with its general address (partners have none here)."""
    if actor.role is not Role.STAFF or actor.library is None:
        return None
    return await rpc.call(ops.GET_LIBRARY, actor, GetLibrary(library=actor.library))


def _preferences_page(
    visitor: Visitor,
    current: NoticePreferences,
    library: LibraryView | None,
    *,
    saved: bool = False,
    library_saved: bool = False,
    problem: Explanation | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response[str]:
    shown = values or {
        "email": current.email or "",
        "language": current.language.value,
        "kinds": [kind.value for kind in current.kinds],
    }
    return page(
        visitor,
        "notices.html",
        status=status,
        section="notices",
        current=current,
        values=shown,
        saved=saved and not library_saved,
        library=library,
        library_saved=library_saved,
        problem=problem,
    )
