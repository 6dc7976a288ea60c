"""Certificates of conduct (VOG) and qualifications across the library, for its staff (the coordinator reads along
without names): whose VOG is requested, valid until when, runs out soon or has run out; who holds which
qualification until when, the lapsed ones too. What to do about one (request a renewal, plan a training) is on the
person's page and the training pages; this page only reads the volunteers service."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from gateway.console import paging
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from gateway.console.volunteers import person_name, trainable_people
from shared.clock import LOCAL_TIME
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.volunteers import CertificateStatus, ListQualifications, VolunteerView
from shared.rpc import RpcClient
from shared.tenancy import Role

SOON = timedelta(days=60)  # a VOG or qualification that runs out within this is flagged


def certificate_order(person: VolunteerView) -> tuple[int, date]:
    """Run out first, then requested, then by the day it runs out."""
    certificate = person.certificate
    if certificate is None:
        return (1, date.min)
    rank = {CertificateStatus.EXPIRED: 0, CertificateStatus.REQUESTED: 1, CertificateStatus.VALID: 2}
    return (rank[certificate.status], certificate.valid_until or date.max)


class QualificationPages(Controller):
    path = "/qualifications"

    @get("/")
    async def qualifications(
        self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient], cursor: FromQuery[str | None] = None
    ) -> Response[str]:
        """The certificates of everyone in training or service (every page of them, bounded by paging.OPTIONS_BOUND
        and saying so), and the qualifications held a page at a time by the API's cursor (`/api/v1/qualifications`)."""
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        (people, complete), held = await asyncio.gather(
            trainable_people(rpc, actor),
            paging.one_page(
                lambda at, limit: rpc.call(
                    ops.LIST_QUALIFICATIONS, actor, ListQualifications(valid_only=False, limit=limit, cursor=at)
                ),
                cursor,
                path=f"{PREFIX}/qualifications",
            ),
        )
        screened = [p for p in people.values() if p.certificate is not None or p.certificate_of_conduct_required]
        today = datetime.now(LOCAL_TIME).date()
        return page(
            visitor,
            "qualifications.html",
            section="volunteers",
            screened=sorted(screened, key=certificate_order),
            screened_complete=complete,
            held=sorted(held.items, key=lambda q: (q.valid, q.valid_until or date.max, q.code)),
            names={key: person_name(person) for key, person in people.items()},
            soon=today + SOON,
            held_pages=held,
        )
