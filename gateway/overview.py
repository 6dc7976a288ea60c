"""The municipality overview: figures per library and per partner, gathered from the services in parallel.

Each service answers its `statistics` operation within the actor's scope (a coordinator's municipality,
a staff member's library). Every call has the same deadline; a service that does not answer in time, or
at all, leaves its part out and the overview says so (`complete: false`, `missing` names the part and the
service) instead of failing as a whole.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from gateway.dependencies import MunicipalityQuery
from gateway.problems import READ_PROBLEMS, problem_responses
from shared.clock import local_today
from shared.contracts.courses.api import operations as course_ops
from shared.contracts.courses.api.statistics import (
    CourseFigures,
    CoursePartnerActs,
    CoursesPartnerActs,
    CoursesStatistics,
    GetCoursesPartnerActs,
    GetCoursesStatistics,
    PurchaseFigures,
)
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.statistics import GetPartnersStatistics, PartnersStatistics
from shared.contracts.partners.events import PartnerKind
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.statistics import (
    GetReferralsOverviewStatistics,
    ReferralFigures,
    ReferralsOverviewStatistics,
)
from shared.contracts.volunteers.api import operations as volunteer_ops
from shared.contracts.volunteers.api.statistics import (
    GetVolunteerPartnerActs,
    GetVolunteersStatistics,
    VolunteerFigures,
    VolunteerPartnerActs,
    VolunteersPartnerActs,
    VolunteersStatistics,
)
from shared.errors import Forbidden, PartnernetError
from shared.operations import Operation
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

OVERVIEW_DEADLINE_SECONDS = 3.0


class MissingPart(msgspec.Struct, frozen=True, kw_only=True):
    part: str  # "partners", "referrals", "courses" (with purchases) or "volunteers" (each with partners' acts)
    service: str
    reason: str


class LibraryOverview(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    name: str | None = None
    active_partnerships: int | None = None
    partnership_reviews_due: int | None = None  # partnerships whose review date has come: to review
    referrals: ReferralFigures | None = None  # None: the part is missing (see `missing`) or has no figures
    courses: CourseFigures | None = None
    purchases: PurchaseFigures | None = None
    volunteers: VolunteerFigures | None = None


class PartnerActs(msgspec.Struct, frozen=True, kw_only=True):
    """What the partner did for the libraries in scope this calendar year (`period_from` to `period_until`), as the
    volunteers and courses services count it (their `partner_acts` operations, which the annual report calls for a
    whole year). A part whose service did not answer is null here and named in `missing`."""

    period_from: date
    period_until: date
    trainings_given: int | None = None  # sessions of its own training modules for the library's volunteers
    training_attendances: int | None = None  # attendance recorded as attended at those sessions
    interns_supplied: int | None = None  # its interns whose internship ran for some of the period
    intern_minutes: int | None = None  # hours its interns worked, in minutes
    partner_run_courses: int | None = None  # its courses hosted at a library with a session in the period
    partner_run_enrolments: int | None = None  # confirmed places in those sessions
    education_requests: int | None = None  # its requests for tailored education made in the period
    education_requests_planned: int | None = None
    education_requests_declined: int | None = None
    education_places_taken: int | None = None  # places its referrals took on the courses planned for them


class PartnerOverview(msgspec.Struct, frozen=True, kw_only=True):
    partner_id: UUID
    name: str | None = None  # every partner in scope has it, an ended one too
    kind: PartnerKind | None = None
    status: str | None = None  # "active", "suspended", "ended"
    active_partnerships: int | None = None
    referrals: ReferralFigures | None = None  # the referrals it takes part in: referred by it and referred to it
    referrals_from_partner: int | None = None  # of these, referred by the partner (to a library)
    referrals_to_partner: int | None = None  # of these, referred to the partner (by a library)
    courses: CourseFigures | None = None
    purchases: PurchaseFigures | None = None
    volunteers: VolunteerFigures | None = None
    acts: PartnerActs | None = None  # this calendar year; null for a partner that did none of them


class Overview(msgspec.Struct, frozen=True, kw_only=True):
    municipality: str | None
    library: str | None  # set for a library's own overview (staff)
    complete: bool
    missing: list[MissingPart]
    libraries: list[LibraryOverview]
    partners: list[PartnerOverview]
    generated_at: datetime


@dataclass
class Part:
    name: str
    operation: Operation[Any, Any]
    body: Any


class OverviewController(Controller):
    path = "/api/v1/overview"
    tags = ["overview"]

    @get(
        "/",
        summary="Figures per library and per partner (coordinators: the municipality; staff: their library)",
        description=(
            "Gathered from the services in parallel with a deadline; a part whose service does not answer is left "
            "out and named in `missing` (`complete` is false). What each figure counts, within the caller's scope "
            "(coordinators: their municipality; staff: their library and the partners it works with or its figures "
            "mention):\n\n"
            "- `active_partnerships`: partnerships in status active now (a library's with any partner; a partner's "
            "with any library in scope); `partnership_reviews_due`: a library's active or suspended partnerships "
            "whose review date has come and that have no new review date yet.\n"
            "- `referrals.by_status`: referrals by their current status, submission date any; a partner's count the "
            "referrals it takes part in, both those it referred (`referrals_from_partner`) and those referred to it "
            "(`referrals_to_partner`).\n"
            "- `referrals.overdue`: submitted, unanswered referrals past the library's response time now.\n"
            "- `referrals.intakes`: referrals whose intake took place (recorded as held); a planned or missed "
            "intake is not counted.\n"
            "- `referrals.median_hours_to_intake`: the median of the hours from submission to the moment the intake "
            "took place, over those referrals (0 for one registered after its intake); null without any. From a "
            "histogram of 2 %-wide buckets: exact while the middle intake's bucket holds one value, otherwise "
            "within 2 % of 1 + the median.\n"
            "- `courses.courses`: published courses not cancelled with a session still to come (or none "
            "scheduled yet); `places`, `places_free` (capacity minus confirmed places) and `waiting_list` "
            "(waitlisted enrolments) over the sessions still to come; `education_requests`: referrers' requests "
            "for tailored education awaiting the library's answer (a partner's: its own).\n"
            "- `purchases`: this budget year's budget; `committed_cents` approved or ordered, not yet invoiced; "
            "`spent_cents` invoiced or closed (a partner's: bought from it).\n"
            "- `volunteers.active_volunteers`: volunteers active now, interns not included; "
            "`active_interns`: interns active now; `open_vacancies`: published vacancies.\n"
            "- A partner's `acts`: what it did for the libraries in scope this calendar year (Dutch days; sessions "
            "scheduled later this year included): "
            "`trainings_given` (sessions of its own training modules for the library's volunteers that started) and "
            "`training_attendances` (recorded as attended), `interns_supplied` (its interns whose internship ran for "
            "some of it) and `intern_minutes` (the hours they worked), `partner_run_courses` (its courses hosted at a "
            "library with a session starting then) and `partner_run_enrolments` (their confirmed places), "
            "`education_requests` made then with `_planned`, `_declined` and `education_places_taken` (places its "
            "referrals took on the courses planned for them); null where its service did not answer. The services "
            "answer these for any period (`rpc.volunteers.partner_acts`, `rpc.courses.partner_acts`).\n"
            "- A partner keeps its `name`, `kind` and `status` once ended or suspended."
        ),
        responses=problem_responses(*READ_PROBLEMS),
    )
    async def overview(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        municipality: MunicipalityQuery = None,  # operators: the municipality to show
    ) -> Overview:
        return await gather_overview(rpc, actor, municipality)


FIGURES = ("referrals", "courses", "purchases", "volunteers", "acts")


def concerns_library(entry: dict[str, Any]) -> bool:
    return bool(entry.get("active_partnerships")) or any(entry.get(part) is not None for part in FIGURES)


def overview_parts(municipality: str | None, library: str | None, year_start: date, year_end: date) -> list[Part]:
    """The services' operations the overview calls, each with its request (benchmarks/overview_parts.py times
    them one by one)."""
    return [
        Part(
            "partners",
            partner_ops.PARTNERS_STATISTICS,
            GetPartnersStatistics(municipality=municipality, library=library),
        ),
        Part(
            "referrals",
            referral_ops.REFERRALS_OVERVIEW_STATISTICS,
            GetReferralsOverviewStatistics(municipality=municipality, library=library),
        ),
        Part(
            "courses",
            course_ops.COURSES_STATISTICS,
            GetCoursesStatistics(municipality=municipality, library=library),
        ),
        Part(
            "volunteers",
            volunteer_ops.VOLUNTEERS_STATISTICS,
            GetVolunteersStatistics(municipality=municipality, library=library),
        ),
        # what partners did this calendar year: a part of the same service's figures (missing together with them)
        Part(
            "volunteers",
            volunteer_ops.VOLUNTEER_PARTNER_ACTS,
            GetVolunteerPartnerActs(
                municipality=municipality, library=library, period_from=year_start, period_until=year_end
            ),
        ),
        Part(
            "courses",
            course_ops.COURSES_PARTNER_ACTS,
            GetCoursesPartnerActs(
                municipality=municipality, library=library, period_from=year_start, period_until=year_end
            ),
        ),
    ]


async def gather_overview(rpc: RpcClient, actor: Actor, municipality: str | None) -> Overview:
    if actor.role is Role.PARTNER:
        raise Forbidden("the overview is for coordinators, library staff and operators")
    if actor.role is not Role.OPERATOR:
        municipality = actor.municipality
    library = actor.library if actor.role is Role.STAFF else None
    today = local_today()
    year_start, year_end = today.replace(month=1, day=1), today.replace(month=12, day=31)
    parts = overview_parts(municipality, library, year_start, year_end)
    deadline = min(rpc.timeout, OVERVIEW_DEADLINE_SECONDS)

    async def fetch(part: Part) -> Any:
        try:
            return await rpc.call(part.operation, actor, part.body, timeout=deadline)
        except PartnernetError as exc:
            return MissingPart(part=part.name, service=part.operation.service, reason=exc.detail)
        except msgspec.ValidationError as exc:
            return MissingPart(part=part.name, service=part.operation.service, reason=f"the answer did not fit: {exc}")

    answered = await asyncio.gather(*(fetch(p) for p in parts))
    answers = {part.operation.subject: answer for part, answer in zip(parts, answered, strict=True)}
    missing: list[MissingPart] = []  # one per part: a service that fails both its calls is missing once
    for answer in answered:
        if isinstance(answer, MissingPart) and answer.part not in {m.part for m in missing}:
            missing.append(answer)
    libraries: dict[str, dict[str, Any]] = {}
    partners: dict[UUID, dict[str, Any]] = {}

    def for_library(slug: str) -> dict[str, Any]:
        return libraries.setdefault(slug, {"library": slug})

    def for_partner(partner_id: UUID) -> dict[str, Any]:
        return partners.setdefault(partner_id, {"partner_id": partner_id})

    if isinstance(found := answers[partner_ops.PARTNERS_STATISTICS.subject], PartnersStatistics):
        for lib in found.libraries:
            for_library(lib.library).update(
                name=lib.name,
                active_partnerships=lib.active_partnerships,
                partnership_reviews_due=lib.partnership_reviews_due,
            )
        for partner in found.partners:
            for_partner(partner.partner_id).update(
                name=partner.name,
                kind=partner.kind,
                status=partner.status,
                active_partnerships=partner.active_partnerships,
            )
    if isinstance(found := answers[referral_ops.REFERRALS_OVERVIEW_STATISTICS.subject], ReferralsOverviewStatistics):
        for lib_referrals in found.libraries:
            for_library(lib_referrals.library)["referrals"] = lib_referrals.figures
        for partner_referrals in found.partners:
            for_partner(partner_referrals.partner_id).update(
                referrals=partner_referrals.figures,
                referrals_from_partner=partner_referrals.referred_by_partner,
                referrals_to_partner=partner_referrals.referred_to_partner,
            )
    if isinstance(found := answers[course_ops.COURSES_STATISTICS.subject], CoursesStatistics):
        for lib_courses in found.libraries:
            for_library(lib_courses.library).update(courses=lib_courses.courses, purchases=lib_courses.purchases)
        for partner_courses in found.partners:
            for_partner(partner_courses.partner_id).update(
                courses=partner_courses.courses, purchases=partner_courses.purchases
            )
    if isinstance(found := answers[volunteer_ops.VOLUNTEERS_STATISTICS.subject], VolunteersStatistics):
        for lib_volunteers in found.libraries:
            for_library(lib_volunteers.library)["volunteers"] = lib_volunteers.figures
        for partner_volunteers in found.partners:
            for_partner(partner_volunteers.partner_id)["volunteers"] = partner_volunteers.figures

    # A partner's acts: 0 for what a service that answered did not count for it, null for what one did not answer.
    acts: dict[UUID, dict[str, Any]] = {}
    answered_zero: dict[str, int] = {}
    for operation, answer_type, each in (
        (volunteer_ops.VOLUNTEER_PARTNER_ACTS, VolunteersPartnerActs, VolunteerPartnerActs),
        (course_ops.COURSES_PARTNER_ACTS, CoursesPartnerActs, CoursePartnerActs),
    ):
        if isinstance(found := answers[operation.subject], answer_type):
            answered_zero |= dict.fromkeys((f for f in each.__struct_fields__ if f != "partner_id"), 0)
            for partner_acts in found.partners:
                figures = msgspec.structs.asdict(partner_acts)
                figures.pop("partner_id")
                acts.setdefault(partner_acts.partner_id, {}).update(figures)
    for partner_id, figures in acts.items():
        for_partner(partner_id)["acts"] = PartnerActs(
            period_from=year_start, period_until=year_end, **(answered_zero | figures)
        )

    # The services scope by the actor already; the gateway never shows another library to staff regardless.
    if library is not None:
        libraries = {slug: figures for slug, figures in libraries.items() if slug == library}
        libraries.setdefault(library, {"library": library})
        # The partners service names every partner of the municipality: staff see those their library works with
        # or that its figures mention.
        partners = {pid: entry for pid, entry in partners.items() if concerns_library(entry)}
    return Overview(
        municipality=municipality,
        library=library,
        complete=not missing,
        missing=missing,
        libraries=[LibraryOverview(**libraries[slug]) for slug in sorted(libraries)],
        partners=[
            PartnerOverview(**partners[pid])
            for pid in sorted(partners, key=lambda p: (partners[p].get("name") or "", p))
        ],
        generated_at=datetime.now(UTC),
    )
