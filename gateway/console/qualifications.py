"""Certificates of conduct (VOG) and qualifications across the library, for its staff (the coordinator reads along
without names): whose VOG is requested, valid until when, runs out soon or has run out; who holds which
qualification until when, the lapsed ones too. What to do about one (request a renewal, plan a training) is on the
person's page and the training pages; this page only reads the volunteers service."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from gateway.console.session import Visitor
from gateway.console.views import page
from gateway.console.volunteers import library_people, person_name
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
    async def qualifications(self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF, Role.COORDINATOR)
        people, held = await asyncio.gather(
            library_people(rpc, actor),
            rpc.call(ops.LIST_QUALIFICATIONS, actor, ListQualifications(valid_only=False, limit=200)),
        )
        screened = [p for p in people.values() if p.certificate is not None or p.certificate_of_conduct_required]
        today = datetime.now(LOCAL_TIME).date()
        return page(
            visitor,
            "qualifications.html",
            section="volunteers",
            screened=sorted(screened, key=certificate_order),
            held=sorted(held.items, key=lambda q: (q.valid, q.valid_until or date.max, q.code)),
            names={key: person_name(person) for key, person in people.items()},
            soon=today + SOON,
            more=held.next_cursor is not None,
        )
