"""The public calendar's pieces: the resident actor, the flood limits, filters, addresses and the pages it
answers with (gateway/calendar/__init__.py routes them)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response
from opentelemetry import trace

from gateway.calendar import pages as html
from gateway.calendar.words import AUDIENCES, MESSAGES
from gateway.messages import LANGUAGES
from gateway.participant import CodeAttempts
from gateway.templates import Page
from shared.contracts.courses.api.public import (
    PublicCalendar,
    PublicCalendarView,
    PublicSession,
    RegistrationState,
    RegistrationStep,
    RegistrationView,
)
from shared.contracts.vocabulary import Email, Phone
from shared.tenancy import Actor, Role

# Whoever reads the calendar: the least an actor can be (a partner role naming no partner sees nothing anywhere
# else). The courses service authorises by the municipality asked for and by the registration's link.
RESIDENT = Actor(subject="public-calendar", role=Role.PARTNER)
WRONG_LINKS_ALLOWED = 5
LINK_PAGES_PER_MINUTE = 60  # a resident opening their page and pressing its buttons; guessing is the lockout's
SIGN_UPS_STATE_KEY = "calendar_sign_ups"
LINKS_STATE_KEY = "calendar_links"


def limiter(request: Request[Any, Any, Any], key: str, **limits: Any) -> CodeAttempts:
    found: CodeAttempts | None = request.app.state.get(key)
    if found is None:
        found = CodeAttempts(**limits)
        request.app.state[key] = found
    return found


def sign_ups(request: Request[Any, Any, Any]) -> CodeAttempts:
    return limiter(request, SIGN_UPS_STATE_KEY)  # made in gateway/app.py with PARTNERNET_CALENDAR_SIGN_UPS_PER_MINUTE


def link_attempts(request: Request[Any, Any, Any]) -> CodeAttempts:
    return limiter(request, LINKS_STATE_KEY, per_minute=LINK_PAGES_PER_MINUTE, wrong_allowed=WRONG_LINKS_ALLOWED)


def hide_link(request: Request[Any, Any, Any], municipality: str) -> None:
    """Keep the registration's link (the resident's key) out of the access log and off the HTTP span."""
    hidden = f"/m/{municipality}/registrations/{{token}}"
    request.scope["path"] = hidden
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("http.target", hidden)
        span.set_attribute("http.url", str(request.base_url).rstrip("/") + hidden)


def page(content: Page, status_code: int = 200, **headers: str) -> Response[Any]:
    return content.response(status_code, {**html.HEADERS, **headers})


class Filters(msgspec.Struct, kw_only=True):
    """The query parameters as typed; anything else is refused with a page that says so (400)."""

    skill_area: str = ""
    audience: str = ""
    library: str = ""
    place: str = ""
    day: str = ""
    lang: str = "nl"


def calendar_query(municipality: str, request: Request[Any, Any, Any]) -> tuple[PublicCalendar, dict[str, Any]]:
    params = {key: request.query_params.get(key, "") for key in ("skill_area", "audience", "library", "place", "day")}
    wanted = {
        "municipality": municipality,
        "skill_area": params["skill_area"] or None,
        "audience": params["audience"] or None,
        "library": params["library"] or None,
        "place": params["place"].strip() or None,
        "weekday": int(params["day"]) if params["day"].isdigit() else (params["day"] or None),
    }
    query = msgspec.convert(wanted, PublicCalendar)  # raises msgspec.ValidationError on a bad filter
    if query.audience is not None and query.audience not in AUDIENCES:
        raise msgspec.ValidationError("not an audience of the public calendar")
    return query, {**params, "weekday": query.weekday}


class Urls:
    def __init__(self, request: Request[Any, Any, Any], municipality: str, lang: str) -> None:
        self.base = str(request.base_url).rstrip("/")
        self.municipality = municipality
        self.lang = lang
        self.home = html.with_query(f"/m/{municipality}/courses", lang=lang if lang != "nl" else None)

    def session(self, session_id: UUID) -> str:
        return html.with_query(f"/m/{self.municipality}/courses/{session_id}", lang=self.lang)

    def absolute(self, path: str) -> str:
        return self.base + path

    def switch(self, path: str, params: dict[str, Any]) -> dict[str, str]:
        return {code: html.with_query(path, **{**params, "lang": code}) for code in LANGUAGES}


def session_card(session: PublicSession, urls: Urls, lang: str) -> dict[str, Any]:
    local = html.local
    return {
        "title": session.title,
        "description": session.description,
        "skill_area": session.skill_area.value,
        "audience": session.audience.value,
        "level": session.level,
        "when": html.when(session.starts_at, lang),
        "meetings": len(session.meetings),
        "meeting_times": [f"{html.when(m.starts_at, lang)}–{local(m.ends_at):%H:%M}" for m in session.meetings],
        "where": html.where(session, lang),
        "offered_by": session.offered_by,
        "places": html.places(session, lang),
        "price": html.price(session, lang),
        "href": urls.session(session.session_id),
        "href_post": html.with_query(f"/m/{urls.municipality}/courses/{session.session_id}", lang=lang),
    }


def message_page(
    request: Request[Any, Any, Any],
    municipality: str,
    lang: str,
    heading: str,
    lines: list[str],
    status: int,
    **headers: str,
) -> Response[str]:
    urls = Urls(request, municipality, lang)
    content = html.render(
        "message.html",
        lang,
        heading=heading,
        lines=lines,
        home=urls.home,
        municipality_name=municipality,
        switch=urls.switch(request.url.path, dict(request.query_params)),
    )
    return page(content, status, **headers)


def not_found(request: Request[Any, Any, Any], municipality: str, lang: str) -> Response[str]:
    t = MESSAGES.of(lang)
    return message_page(request, municipality, lang, t("not_found"), [t("not_found_line")], 404)


def too_many(request: Request[Any, Any, Any], municipality: str, lang: str, wait: int) -> Response[str]:
    t = MESSAGES.of(lang)
    line = t("too_many_line", minutes=max(1, (wait + 59) // 60))
    return message_page(request, municipality, lang, t("too_many"), [line], 429, **{"Retry-After": str(wait)})


class SignUpForm(msgspec.Struct, kw_only=True):
    name: str = ""
    email: str = ""
    phone: str = ""
    lang: str = "nl"


class StepForm(msgspec.Struct, kw_only=True):
    lang: str = "nl"


class PartialSignUp(msgspec.Struct, kw_only=True):
    """One field of the sign-up at a time, with the request's own constraints, to name each field that is wrong."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "-"
    email: Email = "a@b.nl"
    phone: Phone | None = None


def registration_page(
    request: Request[Any, Any, Any], view: RegistrationView, token: str, lang: str, notice: str | None, status: int
) -> Response[str]:
    t = MESSAGES.of(lang)
    urls = Urls(request, view.municipality, lang)
    state_key = f"state.{view.state.value}"
    if view.state is RegistrationState.CANCELLED and view.cancel_reason in ("offer_lapsed", "session_cancelled"):
        state_key += f".{view.cancel_reason}"
    until = view.offer_expires_at or view.confirm_by
    state = t(state_key, until=html.when(until, lang) if until else "", position=view.waiting_list_position or "")
    base = f"/m/{view.municipality}/registrations/{token}"
    offered = {
        RegistrationState.UNCONFIRMED: [RegistrationStep.CONFIRM, RegistrationStep.CANCEL],
        RegistrationState.OFFERED: [RegistrationStep.ACCEPT, RegistrationStep.CANCEL],
        RegistrationState.PLACE: [RegistrationStep.CANCEL],
        RegistrationState.WAITING_LIST: [RegistrationStep.CANCEL],
    }.get(view.state, [])
    if not view.erased:
        offered.append(RegistrationStep.ERASE)
    steps = [
        {"action": f"{base}/{s.value}", "label": t(f"step.{s.value}"), "secondary": i > 0}
        for i, s in enumerate(offered)
    ]
    lines_state = state + (" " + t("erased") if view.erased else "")
    content = html.render(
        "registration.html",
        lang,
        home=urls.home,
        municipality_name=view.municipality,
        switch=urls.switch(base, {}),
        r=view,
        when=html.when(view.starts_at, lang),
        state=lines_state,
        steps=steps,
        can_erase=not view.erased,
        export=f"{base}/export" + ("?lang=en" if lang == "en" else ""),
        notice=notice,
    )
    return page(content, status, **{"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"})


def municipality_name(view: PublicCalendarView) -> str:
    return view.municipality.replace("-", " ").title()


def headers_cache() -> dict[str, str]:
    return {"Cache-Control": "public, max-age=60"}  # free places change: a minute at most
