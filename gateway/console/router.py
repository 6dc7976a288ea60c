"""The console's one wiring point: its pages, its static assets, the visitor, CSRF, headers and error pages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from gateway.console.access_log import AccessLogPages
from gateway.console.agreements import AgreementPages
from gateway.console.annual_report import AnnualReportPages
from gateway.console.api_keys import ApiKeyPages
from gateway.console.applicants import ApplicantPages
from gateway.console.assignments import AssignmentPages
from gateway.console.budget import BudgetPages
from gateway.console.course_pages import CoursePages
from gateway.console.duplicates import DuplicatePages
from gateway.console.education_requests import EducationRequestPages
from gateway.console.explain import Explanation, explain, plain_words
from gateway.console.feed import FeedPages
from gateway.console.interns import InternPages
from gateway.console.network import NetworkPages
from gateway.console.network_forms import NetworkForms
from gateway.console.notices import NoticePages
from gateway.console.offer import OfferPages
from gateway.console.oidc import OidcController
from gateway.console.organisation import OrganisationPages
from gateway.console.overview import OverviewPages
from gateway.console.participant_tools import ParticipantTools
from gateway.console.partner_people import PartnerPeoplePages
from gateway.console.people import PersonPages
from gateway.console.purchase_steps import PurchaseStepPages
from gateway.console.qualifications import QualificationPages
from gateway.console.quotes import QuotePages
from gateway.console.referral_policy import ReferralPolicyPages
from gateway.console.referrals import ReferralPages
from gateway.console.session import (
    PREFIX,
    ConsoleHeaders,
    RoleNotAllowed,
    SignInRequired,
    Visitor,
    cleared_session_cookie,
    csrf_token,
    is_secure,
    language_of,
    provide_visitor,
    require_csrf,
    seed_of,
)
from gateway.console.session_pages import SessionPages
from gateway.console.signin import SignInController
from gateway.console.subscriptions import SubscriptionPages
from gateway.console.training import TrainingPages
from gateway.console.vacancies import VacancyPages
from gateway.console.views import page
from gateway.console.volunteer_reads import VolunteerReadPages
from gateway.console.volunteers import VolunteerPages
from gateway.console.webhooks import WebhookTools
from shared.errors import PartnernetError

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def bare_visitor(request: Request[Any, Any, Any]) -> Visitor:
    """For an error page: the language and CSRF token without asking anyone who is signed in."""
    token = request.cookies.get("pn_session") or None
    return Visitor(
        lang=language_of(request),
        actor=None,
        token=token,
        csrf=csrf_token(seed_of(request), token),
        path=request.url.path,
        secure=is_secure(request),
    )


def error_page(request: Request[Any, Any, Any], problem: Explanation) -> Response[str]:
    return page(bare_visitor(request), "error.html", status=problem.status, section="error", problem=problem)


def sign_in_required(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    query = f"?next={quote(request.url.path)}" + ("&expired=true" if exc.expired else "")
    target = f"{PREFIX}/sign-in{query}"
    cookies = [cleared_session_cookie(secure=is_secure(request))] if exc.expired else None
    if request.headers.get("hx-request"):  # an htmx fragment: the whole page goes to the sign-in
        return Response("", status_code=200, headers={"HX-Redirect": target}, cookies=cookies)
    return Redirect(target, status_code=303, cookies=cookies)


def role_not_allowed(request: Request[Any, Any, Any], exc: RoleNotAllowed) -> Response[str]:
    lang = language_of(request)
    return error_page(request, plain_words(lang, "role", str(exc)))


def service_error(request: Request[Any, Any, Any], exc: PartnernetError) -> Response[str]:
    return error_page(request, explain(language_of(request), exc))


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[str]:
    lang = language_of(request)
    if isinstance(exc, PermissionDeniedException) and exc.detail == "csrf":
        return error_page(request, plain_words(lang, "csrf", "the form's CSRF token is missing or stale"))
    if isinstance(exc, NotFoundException):
        return error_page(request, plain_words(lang, "not-found", str(exc.detail)))
    code = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 413: "too-large", 429: "too-many-requests"}
    problem = plain_words(lang, code.get(exc.status_code, "invalid-input"), str(exc.detail))
    return error_page(request, Explanation(**{**problem.__dict__, "status": exc.status_code}))


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    log.exception("unexpected error on %s", request.url.path)
    return error_page(request, plain_words(language_of(request), "internal", ""))


def console_router() -> Router:
    return Router(
        path=PREFIX,
        route_handlers=[
            SignInController,
            OidcController,
            ReferralPages,
            ParticipantTools,
            DuplicatePages,
            AccessLogPages,
            ReferralPolicyPages,
            NetworkPages,
            NetworkForms,
            OrganisationPages,
            PartnerPeoplePages,
            EducationRequestPages,
            AgreementPages,
            VolunteerPages,
            VolunteerReadPages,
            VacancyPages,
            ApplicantPages,
            TrainingPages,
            AssignmentPages,
            InternPages,
            QualificationPages,
            PersonPages,
            OfferPages,
            CoursePages,
            SessionPages,
            PurchaseStepPages,
            BudgetPages,
            OverviewPages,
            AnnualReportPages,
            SubscriptionPages,
            WebhookTools,
            ApiKeyPages,
            QuotePages,
            FeedPages,
            NoticePages,
            create_static_files_router(
                path="/static", directories=[STATIC], cache_control=CacheControlHeader(max_age=3600)
            ),
        ],
        dependencies={"visitor": Provide(provide_visitor)},
        guards=[require_csrf],
        middleware=[ConsoleHeaders()],
        exception_handlers={
            SignInRequired: sign_in_required,
            RoleNotAllowed: role_not_allowed,
            PartnernetError: service_error,
            HTTPException: http_error,
            Exception: unexpected,
        },
        include_in_schema=False,
        tags=["console"],
    )
