"""Who read personal data in the library, for its staff: the referrals service's log of reads of participants
(the whole library's, or one referral's) and the volunteers service's log of reads of volunteers, newest first;
when, who in which role and organisation, why, and whose data (by pseudonym or link, never by name), so opening
the page is no read of anyone. The same operations as GET /api/v1/referrals/access-log, /referrals/{id}/access-log
and /volunteers/access-log."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from gateway.console import forms, paging
from gateway.console.explain import Explanation, explain
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.participant_data import ListAccessLog
from shared.contracts.volunteers.api import operations as volunteer_ops
from shared.contracts.volunteers.api.access_log import ListVolunteerReads
from shared.errors import InvalidInput, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

LOGS = ("referrals", "volunteers")


class AccessLogPages(Controller):
    path = "/access-log"

    @get("/")
    async def access_log(
        self,
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        of: FromQuery[str | None] = None,
        referral_id: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF)
        log = of or "referrals"
        path = f"{PREFIX}/access-log"
        entries: paging.Listing[Any] = paging.nothing(path)
        problem: Explanation | None = None
        try:
            entries = await paging.one_page(
                self._reads(rpc, actor, log, referral_id),
                cursor,
                path=path,
                keep={"of": log, "referral_id": referral_id if log == "referrals" else None},
            )
        except (PartnernetError, msgspec.ValidationError) as exc:
            problem = explain(visitor.lang, exc)
        return page(
            visitor,
            "access_log.html",
            status=problem.status if problem else 200,
            section="access_log",
            log=log if log in LOGS else "referrals",
            logs=LOGS,
            entries=entries.items,
            entry_pages=entries,
            referral_id=referral_id if log == "referrals" and problem is None else None,  # a checked id only
            problem=problem,
            parties=await load_names(rpc, actor),
        )

    @staticmethod
    def _reads(rpc: RpcClient, actor: Actor, log: str, referral_id: str | None) -> paging.Fetch[Any]:
        """A page of the chosen log at the API's cursor."""
        if log == "referrals":
            return lambda at, limit: rpc.call(
                ops.LIST_ACCESS_LOG,
                actor,
                forms.convert({"referral_id": referral_id or None, "cursor": at, "limit": limit}, ListAccessLog),
            )
        if log == "volunteers":
            return lambda at, limit: rpc.call(
                volunteer_ops.LIST_VOLUNTEER_READS,
                actor,
                forms.convert({"cursor": at, "limit": limit}, ListVolunteerReads),
            )
        raise InvalidInput("not a log of the console - at `$.of`")
