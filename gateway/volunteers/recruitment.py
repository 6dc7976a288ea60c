"""Routes for recruitment: vacancies, applications and the pipeline, screening, interns, hours and qualifications."""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough, step
from shared.contracts.volunteers.api import operations as ops
from shared.contracts.volunteers.api.vacancies import VacancyChanges, VacancyStep, VacancyStepRequest
from shared.contracts.volunteers.api.volunteers import (
    CertificateReceipt,
    CertificateRequest,
    ConfirmInternshipRequest,
    InternAssessmentRequest,
    VolunteerChanges,
    VolunteerStep,
    VolunteerStepRequest,
)
from shared.contracts.volunteers.events import VolunteerKind

VACANCY = "/{vacancy_id:uuid}"
VOLUNTEER = "/{volunteer_id:uuid}"


vacancy_routes = Router(
    path="/api/v1/vacancies",
    tags=["volunteers"],
    route_handlers=[
        passthrough("POST", "/", ops.CREATE_VACANCY, body=True, status_code=201, handler_name="create"),
        passthrough("GET", "/", ops.LIST_VACANCIES),
        passthrough("GET", VACANCY, ops.GET_VACANCY, handler_name="get_one"),
        passthrough("PATCH", VACANCY, ops.UPDATE_VACANCY, body=VacancyChanges, if_match=True, handler_name="update"),
        step(
            VACANCY,
            ops.TAKE_VACANCY_STEP,
            VacancyStep.PUBLISH,
            "Publish: partnering volunteer organisations see it",
            body=VacancyStepRequest,
        ),
        step(VACANCY, ops.TAKE_VACANCY_STEP, VacancyStep.CLOSE, "Close a vacancy", body=VacancyStepRequest),
    ],
)

application_routes = Router(
    path="/api/v1/applications",
    tags=["volunteers"],
    route_handlers=[
        passthrough("POST", "/", ops.APPLY, body=True, status_code=201),
        passthrough(
            "GET",
            "/",
            ops.LIST_VOLUNTEERS,
            fixed={"kind": VolunteerKind.VOLUNTEER},
            query=["cursor", "limit", "status", "library", "vacancy_id", "via_partner_id"],
            summary="Applicants and volunteers; a volunteer organisation sees the applications it submitted",
            handler_name="list_applications",
        ),
    ],
)

volunteer_routes = Router(
    path="/api/v1/volunteers",
    tags=["volunteers"],
    route_handlers=[
        passthrough("GET", "/", ops.LIST_VOLUNTEERS),
        passthrough("GET", "/hours", ops.LIST_HOURS_TOTALS, handler_name="hours_totals"),
        passthrough("GET", "/qualifications", ops.LIST_QUALIFICATIONS, handler_name="qualifications"),
        passthrough("GET", VOLUNTEER, ops.GET_VOLUNTEER, handler_name="get_one"),
        passthrough(
            "PATCH", VOLUNTEER, ops.UPDATE_VOLUNTEER, body=VolunteerChanges, if_match=True, handler_name="update"
        ),
        passthrough(
            "POST",
            f"{VOLUNTEER}/{{step:str}}",
            ops.TAKE_VOLUNTEER_STEP,
            body=VolunteerStepRequest,
            if_match=True,
            status_code=200,
            handler_name="take_step",
        ),
        passthrough(
            "POST",
            f"{VOLUNTEER}/certificate-of-conduct/requests",
            ops.REQUEST_CERTIFICATE,
            body=CertificateRequest,
            if_match=True,
            status_code=200,
        ),
        passthrough(
            "POST",
            f"{VOLUNTEER}/certificate-of-conduct/receipts",
            ops.RECEIVE_CERTIFICATE,
            body=CertificateReceipt,
            if_match=True,
            status_code=200,
        ),
    ],
)

intern_routes = Router(
    path="/api/v1/interns",
    tags=["volunteers"],
    route_handlers=[
        passthrough("POST", "/", ops.REGISTER_INTERN, body=True, status_code=201, handler_name="register"),
        passthrough(
            "GET",
            "/",
            ops.LIST_VOLUNTEERS,
            fixed={"kind": VolunteerKind.INTERN},
            query=["cursor", "limit", "status", "library"],
            summary="Interns in scope; a school sees the interns it supplied",
            handler_name="list_interns",
        ),
        passthrough(
            "POST",
            f"{VOLUNTEER}/end",
            ops.TAKE_VOLUNTEER_STEP,
            body=VolunteerStepRequest,
            fixed={"step": VolunteerStep.END},
            if_match=True,
            status_code=200,
            summary="End an internship before its period is over",
            handler_name="end",
        ),
        passthrough(
            "POST",
            f"{VOLUNTEER}/confirm",
            ops.CONFIRM_INTERNSHIP,
            body=ConfirmInternshipRequest,
            if_match=True,
            status_code=200,
            handler_name="confirm",
        ),
        passthrough(
            "PUT",
            f"{VOLUNTEER}/assessment",
            ops.ASSESS_INTERN,
            body=InternAssessmentRequest,
            if_match=True,
            status_code=200,
            handler_name="assess",
        ),
    ],
)
