"""One volunteer or intern, for the library's staff (the coordinator reads along without names): who they are (as
far as the volunteers service shows it to the visitor), where they stand and the steps from there (accept after
screening, reject or withdraw with a reason), the certificate of conduct (VOG: request it, record its receipt),
their qualifications, changing their details, and for an intern the library's assessment at the end of the period
(for the school); and a new application through the library's own channel.
Each form posts the service's own operation (as /api/v1/applications and /api/v1/volunteers/{id}/... do) with
the version shown; the service decides who may."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.console import forms, paging, steps
from gateway.console.explain import Explanation
from gateway.console.names import load_names
from gateway.console.session import PREFIX, Visitor
from gateway.console.views import page
from gateway.console.volunteers import INTERN_NEXT_STEPS, INTERN_STOP_STEPS, NEXT_STEPS, STOP_STEPS, take_step
from shared.clock import local_today
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.organisations import ListPartners, PartnerStatus
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.vacancies import GetVacancy, ListVacancies, VacancyStatus
from shared.contracts.volunteers.api.volunteers import (
    Apply,
    AssessIntern,
    CertificateStatus,
    GetVolunteer,
    ReceiveCertificate,
    RequestCertificate,
    UpdateVolunteer,
    VolunteerView,
)
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import NotFound
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

READERS = (Role.STAFF, Role.COORDINATOR)
DONE = ("applied", "step", "requested", "received", "changed", "assessed")
# What a form does (the last part of its address) → the volunteers service's operation and its request.
ACTS: dict[str, steps.Step] = {
    "take-step": steps.Step(ops.TAKE_VOLUNTEER_STEP, take_step),
    "certificate-request": steps.Step(
        ops.REQUEST_CERTIFICATE,
        lambda vid, form: forms.convert(
            {"volunteer_id": str(vid), "expected_version": forms.number(form, "expected_version")},
            RequestCertificate,
        ),
    ),
    "certificate-receipt": steps.Step(
        ops.RECEIVE_CERTIFICATE,
        lambda vid, form: forms.convert(
            {
                "volunteer_id": str(vid),
                "issued_on": forms.text(form, "issued_on"),
                "valid_until": forms.text(form, "valid_until"),
                "expected_version": forms.number(form, "expected_version"),
            },
            ReceiveCertificate,
        ),
    ),
    "assessment": steps.Step(ops.ASSESS_INTERN, lambda vid, form: assessment_of(vid, form)),
    "details": steps.Step(
        ops.UPDATE_VOLUNTEER,
        lambda vid, form: forms.convert(
            {
                "volunteer_id": str(vid),
                "person": person_of(form),
                "motivation": forms.text(form, "motivation") or "",
                "certificate_of_conduct_required": forms.flag(form, "certificate_of_conduct_required"),
                "expected_version": forms.number(form, "expected_version"),
            },
            UpdateVolunteer,
        ),
    ),
}
# The act → the notice after it, and the form the page opens again with a refusal.
DONE_OF = {
    "take-step": "step",
    "certificate-request": "requested",
    "certificate-receipt": "received",
    "details": "changed",
    "assessment": "assessed",
}
NEW_FIELDS = ("person_name", "person_email", "person_phone", "motivation", "vacancy_id", "via_partner_id")


def person_of(form: FormMultiDict) -> dict[str, Any]:
    return forms.person(form, "person")


def assessment_of(volunteer_id: UUID, form: FormMultiDict) -> AssessIntern:
    """The assessment form: a summary and, for each learning goal (sent back as `goal`), its `result`."""
    goals = [
        {"goal": goal, "result": result}
        for goal, result in zip(form.getall("goal", []), form.getall("result", []), strict=False)
        if result
    ]
    data = {
        "volunteer_id": str(volunteer_id),
        "summary": forms.text(form, "summary"),
        "goals": goals,
        "expected_version": forms.number(form, "expected_version"),
    }
    return forms.convert(data, AssessIntern)


def may_assess(person: VolunteerView, today: date) -> bool:
    """The service's rule, to offer the form only when it would be taken: from the period's last day, or once the
    internship ended earlier (services/volunteers/domain/internship.py)."""
    internship = person.internship
    return internship is not None and (internship.ended_on is not None or today >= internship.ends_on)


def assessed_goals(person: VolunteerView) -> dict[str, str]:
    """Each learning goal's result in the assessment there is, to show it chosen on the form."""
    assessment = person.internship.assessment if person.internship else None
    return {g.goal: g.result.value for g in assessment.goals} if assessment else {}


def typed(form: FormMultiDict, names: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {name: forms.text(form, name) or "" for name in names}
    values["certificate_of_conduct_required"] = forms.flag(form, "certificate_of_conduct_required")
    return values


def details_of(person: VolunteerView) -> dict[str, Any]:
    shown = person.person
    return {
        "person_name": shown.name if shown else "",
        "person_email": (shown.email or "") if shown else "",
        "person_phone": (shown.phone or "") if shown else "",
        "motivation": person.motivation or "",
        "certificate_of_conduct_required": person.certificate_of_conduct_required,
    }


def certificate_acts(person: VolunteerView) -> list[str]:
    """What the page offers for the VOG: a request (first, after expiry, or a renewal), or recording the receipt."""
    certificate = person.certificate
    if not person.certificate_of_conduct_required and certificate is None:
        return []
    if certificate is None or certificate.status is CertificateStatus.EXPIRED:
        return ["request"]
    if certificate.status is CertificateStatus.REQUESTED or certificate.renewal_requested_at is not None:
        return ["receive"]
    return ["request"]  # a valid one: a renewal


class ApplicantPages(Controller):
    path = "/volunteers"

    @get("/new")
    async def new_application(
        self, visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        actor = visitor.signed_in(Role.STAFF)
        values = dict.fromkeys(NEW_FIELDS, "") | {"certificate_of_conduct_required": True}
        return await self._new_page(visitor, rpc, actor, values=values)

    @post("/new", status_code=303)
    async def apply(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()

        def application() -> Apply:
            vacancy_id = forms.uuid(form, "vacancy_id")
            data = {
                "person": person_of(form),
                "vacancy_id": str(vacancy_id) if vacancy_id else None,
                "motivation": forms.text(form, "motivation"),
                "via_partner_id": forms.text(form, "via_partner_id"),
                # With a vacancy the vacancy says whether a VOG is needed; without one the form does.
                "certificate_of_conduct_required": None
                if vacancy_id
                else forms.flag(form, "certificate_of_conduct_required"),
            }
            return forms.convert(data, Apply)

        return await steps.submit(
            visitor,
            lambda: rpc.call(ops.APPLY, actor, application()),
            done=lambda made: f"{PREFIX}/volunteers/{made.id}?done=applied",
            again=lambda problem: self._new_page(visitor, rpc, actor, values=typed(form, NEW_FIELDS), problem=problem),
        )

    @get("/{volunteer_id:uuid}")
    async def person(
        self,
        volunteer_id: FromPath[UUID],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        actor = visitor.signed_in(*READERS)
        notice = f"applicant_done.{done}" if done in DONE else None
        return await self._page(visitor, rpc, actor, volunteer_id, notice=notice)

    @post("/{volunteer_id:uuid}/{act:str}", status_code=303)
    async def act(
        self,
        volunteer_id: FromPath[UUID],
        act: FromPath[str],
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """A step, the certificate of conduct asked or received, changed details: the volunteers service decides."""
        actor = visitor.signed_in(Role.STAFF)
        form = await request.form()
        done = DONE_OF.get(act, act)
        return await steps.submit(
            visitor,
            lambda: steps.take(rpc, actor, ACTS, act, volunteer_id, form),
            done=f"{PREFIX}/volunteers/{volunteer_id}?done={done}",
            again=lambda problem: self._page(visitor, rpc, actor, volunteer_id, problem=problem, open_act=done),
        )

    @staticmethod
    async def _new_page(
        visitor: Visitor, rpc: RpcClient, actor: Actor, *, values: dict[str, Any], problem: Explanation | None = None
    ) -> Response[str]:
        """Every published vacancy and every active partner to choose from (all their pages, paging.every)."""
        published = VacancyStatus.PUBLISHED
        active = PartnerStatus.ACTIVE
        vacancies, partners = await asyncio.gather(
            paging.every(
                lambda at, limit: rpc.call(
                    ops.LIST_VACANCIES, actor, ListVacancies(status=published, limit=limit, cursor=at)
                )
            ),
            paging.every(
                lambda at, limit: rpc.call(
                    partner_ops.LIST_PARTNERS, actor, ListPartners(status=active, limit=limit, cursor=at)
                )
            ),
        )
        return page(
            visitor,
            "applicant_new.html",
            status=problem.status if problem else 200,
            section="volunteers",
            problem=problem,
            values=values,
            vacancies=vacancies.items,
            partners=partners.items,
            vacancy_options=vacancies,
            partner_options=partners,
        )

    @staticmethod
    async def _page(
        visitor: Visitor,
        rpc: RpcClient,
        actor: Actor,
        volunteer_id: UUID,
        *,
        notice: str | None = None,
        problem: Explanation | None = None,
        open_act: str | None = None,
    ) -> Response[str]:
        person, parties = await asyncio.gather(
            rpc.call(ops.GET_VOLUNTEER, actor, GetVolunteer(volunteer_id=volunteer_id)), load_names(rpc, actor)
        )
        vacancy = None
        if person.vacancy_id is not None:
            try:
                vacancy = await rpc.call(ops.GET_VACANCY, actor, GetVacancy(vacancy_id=person.vacancy_id))
            except NotFound:
                vacancy = None
        intern = person.kind is VolunteerKind.INTERN
        can_act = actor.role is Role.STAFF
        next_steps = (INTERN_NEXT_STEPS if intern else NEXT_STEPS).get(person.status, ()) if can_act else ()
        stop_steps = (INTERN_STOP_STEPS if intern else STOP_STEPS).get(person.status, ()) if can_act else ()
        return page(
            visitor,
            "applicant.html",
            status=problem.status if problem else 200,
            section="volunteers",
            p=person,
            name=person.person.name if person.person else None,
            vacancy=vacancy,
            parties=parties,
            next_steps=[step.value for step in next_steps],
            stop_steps=[step.value for step in stop_steps],
            certificate_acts=certificate_acts(person) if can_act and not person.anonymised_at else [],
            can_change=can_act and person.person is not None,
            can_assess=can_act and not person.anonymised_at and may_assess(person, local_today()),
            assessed=assessed_goals(person),
            values=details_of(person),
            notice=notice,
            problem=problem,
            open_act=open_act,
        )
