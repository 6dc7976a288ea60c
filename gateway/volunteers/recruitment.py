"""Routes for recruitment: vacancies, applications and the pipeline, screening, interns, hours and qualifications."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from gateway.dependencies import CursorQuery, LibraryQuery, LimitQuery, QualificationQuery, with_expected_version
from gateway.volunteers.calls import VERSIONED, call, fields
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.contracts.volunteers.api.assignments import HoursTotalView, ListHoursTotals
from shared.contracts.volunteers.api.vacancies import (
    CreateVacancy,
    GetVacancy,
    ListVacancies,
    TakeVacancyStep,
    UpdateVacancy,
    VacancyChanges,
    VacancyStatus,
    VacancyStep,
    VacancyStepRequest,
    VacancyView,
)
from shared.contracts.volunteers.api.volunteers import (
    Apply,
    CertificateReceipt,
    CertificateRequest,
    GetVolunteer,
    HeldQualificationView,
    ListQualifications,
    ListVolunteers,
    ReceiveCertificate,
    RegisterIntern,
    RequestCertificate,
    TakeVolunteerStep,
    UpdateVolunteer,
    VolunteerChanges,
    VolunteerStatus,
    VolunteerStep,
    VolunteerStepRequest,
    VolunteerView,
)
from shared.contracts.volunteers.events import VolunteerKind
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class VacancyController(Controller):
    path = "/api/v1/vacancies"
    tags = ["volunteers"]
    dependencies = VERSIONED

    @post("/", summary="Create a vacancy (draft) for the caller's library")
    async def create(
        self, data: JSONBody[CreateVacancy], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> VacancyView:
        return await call(rpc, "create_vacancy", actor, data, VacancyView)

    @get("/", summary="Vacancies in scope; a volunteer organisation sees the published ones of its libraries")
    async def list_vacancies(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        status: FromQuery[VacancyStatus | None] = None,
        library: LibraryQuery = None,
    ) -> Page[VacancyView]:
        query = ListVacancies(cursor=cursor, limit=limit, status=status, library=library)
        return await call(rpc, "list_vacancies", actor, query, Page[VacancyView])

    @get("/{vacancy_id:uuid}", summary="One vacancy")
    async def get_one(
        self, vacancy_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> VacancyView:
        return await call(rpc, "get_vacancy", actor, GetVacancy(vacancy_id=vacancy_id), VacancyView)

    @patch("/{vacancy_id:uuid}", summary="Change what a vacancy asks (If-Match or expected_version)")
    async def update(
        self,
        vacancy_id: FromPath[UUID],
        data: JSONBody[VacancyChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> VacancyView:
        changes = with_expected_version(data, if_match_version)
        body = UpdateVacancy(vacancy_id=vacancy_id, **fields(changes))
        return await call(rpc, "update_vacancy", actor, body, VacancyView)

    @post("/{vacancy_id:uuid}/publish", status_code=200, summary="Publish: partnering volunteer organisations see it")
    async def publish(
        self,
        vacancy_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[VacancyStepRequest | None] = None,
    ) -> VacancyView:
        return await self._step(rpc, actor, vacancy_id, VacancyStep.PUBLISH, data, if_match_version)

    @post("/{vacancy_id:uuid}/close", status_code=200, summary="Close a vacancy")
    async def close(
        self,
        vacancy_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[VacancyStepRequest | None] = None,
    ) -> VacancyView:
        return await self._step(rpc, actor, vacancy_id, VacancyStep.CLOSE, data, if_match_version)

    @staticmethod
    async def _step(
        rpc: RpcClient,
        actor: Actor,
        vacancy_id: UUID,
        step: VacancyStep,
        data: VacancyStepRequest | None,
        if_match_version: int | None,
    ) -> VacancyView:
        request = with_expected_version(data or VacancyStepRequest(), if_match_version)
        body = TakeVacancyStep(vacancy_id=vacancy_id, step=step, expected_version=request.expected_version)
        return await call(rpc, "take_vacancy_step", actor, body, VacancyView)


class ApplicationController(Controller):
    path = "/api/v1/applications"
    tags = ["volunteers"]

    @post("/", summary="Apply: through the library's own channel (staff) or a volunteer organisation (recorded)")
    async def apply(
        self, data: JSONBody[Apply], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> VolunteerView:
        return await call(rpc, "apply", actor, data, VolunteerView)

    @get("/", summary="Applicants and volunteers; a volunteer organisation sees the applications it submitted")
    async def list_applications(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        status: FromQuery[VolunteerStatus | None] = None,
        library: LibraryQuery = None,
        vacancy_id: FromQuery[UUID | None] = None,
        via_partner_id: FromQuery[UUID | None] = None,
    ) -> Page[VolunteerView]:
        query = ListVolunteers(
            cursor=cursor,
            limit=limit,
            kind=VolunteerKind.VOLUNTEER,
            status=status,
            library=library,
            vacancy_id=vacancy_id,
            via_partner_id=via_partner_id,
        )
        return await call(rpc, "list_volunteers", actor, query, Page[VolunteerView])


class VolunteerController(Controller):
    path = "/api/v1/volunteers"
    tags = ["volunteers"]
    dependencies = VERSIONED

    @get("/", summary="Volunteers and interns in scope")
    async def list_volunteers(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        kind: FromQuery[VolunteerKind | None] = None,
        status: FromQuery[VolunteerStatus | None] = None,
        library: LibraryQuery = None,
        vacancy_id: FromQuery[UUID | None] = None,
        via_partner_id: FromQuery[UUID | None] = None,
        name: FromQuery[str | None] = None,
    ) -> Page[VolunteerView]:
        query = ListVolunteers(
            cursor=cursor,
            limit=limit,
            kind=kind,
            status=status,
            library=library,
            vacancy_id=vacancy_id,
            via_partner_id=via_partner_id,
            name=name,
        )
        return await call(rpc, "list_volunteers", actor, query, Page[VolunteerView])

    @get("/hours", summary="Hours (in minutes) summed per volunteer, library and month")
    async def hours_totals(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        volunteer_id: FromQuery[UUID | None] = None,
        library: LibraryQuery = None,
        month: FromQuery[Annotated[str | None, Parameter(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]] = None,
    ) -> Page[HoursTotalView]:
        query = ListHoursTotals(cursor=cursor, limit=limit, volunteer_id=volunteer_id, library=library, month=month)
        return await call(rpc, "list_hours_totals", actor, query, Page[HoursTotalView])

    @get("/qualifications", summary="Who holds which qualification (for a volunteer, a code, a library)")
    async def qualifications(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        volunteer_id: FromQuery[UUID | None] = None,
        code: QualificationQuery = None,
        library: LibraryQuery = None,
        valid_only: FromQuery[bool] = False,
    ) -> Page[HeldQualificationView]:
        query = ListQualifications(
            cursor=cursor, limit=limit, volunteer_id=volunteer_id, code=code, library=library, valid_only=valid_only
        )
        return await call(rpc, "list_qualifications", actor, query, Page[HeldQualificationView])

    @get("/{volunteer_id:uuid}", summary="One volunteer or intern (names and contacts for the library's staff)")
    async def get_one(
        self, volunteer_id: FromPath[UUID], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> VolunteerView:
        return await call(rpc, "get_volunteer", actor, GetVolunteer(volunteer_id=volunteer_id), VolunteerView)

    @patch("/{volunteer_id:uuid}", summary="Change contact details, motivation, or whether the role needs a VOG")
    async def update(
        self,
        volunteer_id: FromPath[UUID],
        data: JSONBody[VolunteerChanges],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> VolunteerView:
        changes = with_expected_version(data, if_match_version)
        body = UpdateVolunteer(volunteer_id=volunteer_id, **fields(changes))
        return await call(rpc, "update_volunteer", actor, body, VolunteerView)

    @post(
        "/{volunteer_id:uuid}/{step:str}",
        status_code=200,
        summary="A step of the pipeline: start_intake, start_screening, activate, withdraw, reject, deactivate, "
        "reactivate; end (interns)",
    )
    async def take_step(
        self,
        volunteer_id: FromPath[UUID],
        step: FromPath[VolunteerStep],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[VolunteerStepRequest | None] = None,
    ) -> VolunteerView:
        request = with_expected_version(data or VolunteerStepRequest(), if_match_version)
        body = TakeVolunteerStep(volunteer_id=volunteer_id, step=step, **fields(request))
        return await call(rpc, "take_volunteer_step", actor, body, VolunteerView)

    @post(
        "/{volunteer_id:uuid}/certificate-of-conduct/requests",
        status_code=200,
        summary="Request a certificate of conduct (VOG), first or as a renewal",
    )
    async def request_certificate(
        self,
        volunteer_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[CertificateRequest | None] = None,
    ) -> VolunteerView:
        request = with_expected_version(data or CertificateRequest(), if_match_version)
        body = RequestCertificate(volunteer_id=volunteer_id, **fields(request))
        return await call(rpc, "request_certificate", actor, body, VolunteerView)

    @post(
        "/{volunteer_id:uuid}/certificate-of-conduct/receipts",
        status_code=200,
        summary="The requested certificate of conduct arrived: its date, and until when it counts",
    )
    async def receive_certificate(
        self,
        volunteer_id: FromPath[UUID],
        data: JSONBody[CertificateReceipt],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
    ) -> VolunteerView:
        receipt = with_expected_version(data, if_match_version)
        body = ReceiveCertificate(volunteer_id=volunteer_id, **fields(receipt))
        return await call(rpc, "receive_certificate", actor, body, VolunteerView)


class InternController(Controller):
    path = "/api/v1/interns"
    tags = ["volunteers"]
    dependencies = VERSIONED

    @post("/", summary="Register an intern supplied by a partner school (staff, or the school itself)")
    async def register(
        self, data: JSONBody[RegisterIntern], actor: NamedDependency[Actor], rpc: NamedDependency[RpcClient]
    ) -> VolunteerView:
        return await call(rpc, "register_intern", actor, data, VolunteerView)

    @get("/", summary="Interns in scope; a school sees the interns it supplied")
    async def list_interns(
        self,
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        status: FromQuery[VolunteerStatus | None] = None,
        library: LibraryQuery = None,
    ) -> Page[VolunteerView]:
        query = ListVolunteers(cursor=cursor, limit=limit, kind=VolunteerKind.INTERN, status=status, library=library)
        return await call(rpc, "list_volunteers", actor, query, Page[VolunteerView])

    @post("/{volunteer_id:uuid}/end", status_code=200, summary="End an internship before its period is over")
    async def end(
        self,
        volunteer_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[VolunteerStepRequest | None] = None,
    ) -> VolunteerView:
        request = with_expected_version(data or VolunteerStepRequest(), if_match_version)
        body = TakeVolunteerStep(volunteer_id=volunteer_id, step=VolunteerStep.END, **fields(request))
        return await call(rpc, "take_volunteer_step", actor, body, VolunteerView)
