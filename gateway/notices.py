"""Routes for notices by e-mail: a person's own choice of notices and address, and the mail outbox for operators.

Staff and partners' people (signed in as themselves, not with an API key) read and set their own choice; nobody
reads another's. Operators list the latest messages and how sending them went.
"""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from gateway.dependencies import LimitQuery
from shared.contracts.partners.api.notices import (
    GetNoticePreferences,
    ListMail,
    MailPage,
    NoticePreferences,
    SetNoticePreferences,
)
from shared.rpc import RpcClient
from shared.tenancy import Actor


class NoticeController(Controller):
    path = "/api/v1/notices"
    tags = ["notices"]

    @get("/preferences", summary="Your notices by e-mail: your address, language and the kinds you get")
    async def preferences(self, actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]) -> NoticePreferences:
        return await rpc.call("partners", "get_notice_preferences", actor, GetNoticePreferences(), NoticePreferences)

    @put(
        "/preferences",
        summary="Choose your notices by e-mail (the first time without `expected_version`, then with the one read)",
    )
    async def choose(
        self, data: JSONBody[SetNoticePreferences], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> NoticePreferences:
        return await rpc.call("partners", "set_notice_preferences", actor, data, NoticePreferences)

    @get("/mail", summary="The latest messages of the mail outbox and how sending went (operators)")
    async def mail(
        self, actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient], limit: LimitQuery = 50
    ) -> MailPage:
        return await rpc.call("partners", "list_mail", actor, ListMail(limit=limit), MailPage)
