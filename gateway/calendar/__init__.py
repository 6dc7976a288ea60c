"""The public course calendar (issue 22) at `/m/<municipality>/courses`: no sign-in, Dutch and English
(`?lang=en`), filters as query parameters, each session's page with its sign-up form, the offer as an iCalendar
feed (`/m/<municipality>/courses.ics`, with the same filters: per library, skill area …), and the resident's
own page behind the link from their e-mail (`/m/<municipality>/registrations/<token>`).

Floods are held back without a CAPTCHA: per client address the gateway takes
`PARTNERNET_CALENDAR_SIGN_UPS_PER_MINUTE` sign-ups a minute and locks out a client that tries
`WRONG_LINKS_ALLOWED` wrong links (gateway/participant.py's `CodeAttempts`, in memory per replica); the courses
service takes `SIGN_UPS_PER_ADDRESS` sign-ups an hour per e-mail address; and nothing happens to the places
until the resident confirms from the e-mail. The link is kept out of the access log and the HTTP span, like the
participant page's code.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody

from gateway.calendar import ical
from gateway.calendar import pages as html
from gateway.calendar.views import (
    RESIDENT,
    PartialSignUp,
    SignUpForm,
    StepForm,
    Urls,
    calendar_query,
    headers_cache,
    hide_link,
    link_attempts,
    message_page,
    municipality_name,
    not_found,
    page,
    registration_page,
    session_card,
    sign_ups,
    too_many,
)
from gateway.calendar.words import AUDIENCES, MESSAGES, SKILL_AREAS
from gateway.participant import client_key
from shared.contracts.courses.api import operations as ops
from shared.contracts.courses.api.public import (
    OpenRegistration,
    PublicCalendar,
    RegisterResident,
    RegistrationStep,
    TakeRegistrationStep,
)
from shared.contracts.courses.api.residents import ExportResidentData
from shared.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from shared.rpc import RpcClient


class PublicCalendarController(Controller):
    """Residents' pages: no sign-in. Not part of the API document (HTML and iCalendar, not JSON)."""

    path = "/m/{municipality:str}"
    include_in_schema = False

    @get("/courses", exclude_from_auth=True, summary="The municipality's course calendar")
    async def calendar(
        self, request: Request[Any, Any, Any], municipality: FromPath[str], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        lang = html.language_of(request.query_params.get("lang"))
        try:
            query, filters = calendar_query(municipality, request)
        except (msgspec.ValidationError, ValueError):
            t = MESSAGES.of(lang)
            return message_page(request, municipality, lang, t("problem"), [t("bad_filter")], 400)
        try:
            view = await rpc.call(ops.PUBLIC_CALENDAR, RESIDENT, query)
        except (NotFound, InvalidInput):
            return not_found(request, municipality, lang)
        urls = Urls(request, municipality, lang)
        params = {k: v for k, v in filters.items() if k != "weekday"}
        feed = html.with_query(f"/m/{municipality}/courses.ics", **params)
        content = html.render(
            "calendar.html",
            lang,
            home=urls.home,
            municipality_name=municipality_name(view),
            switch=urls.switch(request.url.path, dict(request.query_params)),
            filters={**filters, "weekday": query.weekday},
            skill_areas=SKILL_AREAS,
            audiences=AUDIENCES,
            libraries=[
                {"slug": lib.slug, "name": lib.name, "feed": f"/m/{municipality}/courses.ics?library={lib.slug}"}
                for lib in view.libraries
            ],
            sessions=[session_card(s, urls, lang) for s in view.sessions],
            feed=feed,
            json_ld=html.json_ld(
                [html.event_markup(s, urls.absolute(urls.session(s.session_id)), lang) for s in view.sessions]
            ),
        )
        return page(content, 200, **headers_cache())

    @get("/courses.ics", exclude_from_auth=True, summary="The course calendar as an iCalendar feed")
    async def feed(
        self, request: Request[Any, Any, Any], municipality: FromPath[str], rpc: NamedDependency[RpcClient]
    ) -> Response[str]:
        try:
            query, _ = calendar_query(municipality, request)
        except (msgspec.ValidationError, ValueError) as exc:
            raise InvalidInput(f"a filter of the calendar is not valid: {exc}") from None
        view = await rpc.call(ops.PUBLIC_CALENDAR, RESIDENT, query)
        urls = Urls(request, municipality, "nl")
        name = f"Cursussen {municipality_name(view)}"
        if query.library:
            name += " – " + next((lib.name for lib in view.libraries if lib.slug == query.library), query.library)
        body = ical.feed(
            view.sessions,
            name=name,
            generated_at=view.generated_at,
            url_of={str(s.session_id): urls.absolute(urls.session(s.session_id)) for s in view.sessions},
            where_of={str(s.session_id): html.where(s, "nl") for s in view.sessions},
            host=request.url.hostname or "partnernet",
        )
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{municipality}-courses.ics"', **headers_cache()},
        )

    @get("/courses/{session_id:uuid}", exclude_from_auth=True, summary="One session and its sign-up form")
    async def session(
        self,
        request: Request[Any, Any, Any],
        municipality: FromPath[str],
        session_id: FromPath[UUID],
        rpc: NamedDependency[RpcClient],
    ) -> Response[str]:
        lang = html.language_of(request.query_params.get("lang"))
        return await self._session_page(request, rpc, municipality, session_id, lang)

    async def _session_page(
        self,
        request: Request[Any, Any, Any],
        rpc: RpcClient,
        municipality: str,
        session_id: UUID,
        lang: str,
        *,
        form: SignUpForm | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response[str]:
        try:
            query = PublicCalendar(municipality=municipality, session_id=session_id)
            view = await rpc.call(ops.PUBLIC_CALENDAR, RESIDENT, query)
        except (NotFound, InvalidInput, msgspec.ValidationError):
            return not_found(request, municipality, lang)
        if not view.sessions:
            return not_found(request, municipality, lang)
        session = view.sessions[0]
        urls = Urls(request, municipality, lang)
        content = html.render(
            "session.html",
            lang,
            home=urls.home,
            municipality_name=municipality_name(view),
            switch=urls.switch(f"/m/{municipality}/courses/{session_id}", {}),
            s=session_card(session, urls, lang),
            json_ld=html.json_ld(html.event_markup(session, urls.absolute(urls.session(session_id)), lang)),
            form=msgspec.structs.asdict(form or SignUpForm()),
            errors=errors or {},
        )
        return page(content, status)

    @post("/courses/{session_id:uuid}", exclude_from_auth=True, status_code=200, summary="Sign up for a session")
    async def sign_up(
        self,
        request: Request[Any, Any, Any],
        municipality: FromPath[str],
        session_id: FromPath[UUID],
        data: URLEncodedBody[SignUpForm],
        rpc: NamedDependency[RpcClient],
    ) -> Response[str]:
        lang = html.language_of(data.lang)
        if (wait := sign_ups(request).refuse(client_key(request))) is not None:
            return too_many(request, municipality, lang, wait)
        t = MESSAGES.of(lang)
        fields = {"name": data.name.strip(), "email": data.email.strip(), "phone": data.phone.strip() or None}
        errors: dict[str, str] = {}
        for field in ("name", "email", "phone"):
            try:
                msgspec.convert({field: fields[field]}, PartialSignUp, strict=True)
            except msgspec.ValidationError:
                errors[field] = t(f"error.{field}")
        if errors:
            return await self._session_page(
                request, rpc, municipality, session_id, lang, form=data, errors=errors, status=400
            )
        command = RegisterResident(
            municipality=municipality,
            session_id=session_id,
            name=fields["name"] or "",
            email=fields["email"] or "",
            phone=fields["phone"],
            language="en" if lang == "en" else "nl",
        )
        try:
            received = await rpc.call(ops.REGISTER_RESIDENT, RESIDENT, command)
        except NotFound:
            return not_found(request, municipality, lang)
        except TooManyRequests as exc:
            return too_many(request, municipality, lang, int(exc.extra.get("retry_after", 3600)))
        except Conflict:
            return message_page(request, municipality, lang, t("problem"), [t("ended")], 409)
        hours = received.confirm_within_hours
        lines = [t(line, hours=hours) for line in ("check_mail.sent", "check_mail.click", "check_mail.spam")]
        return message_page(request, municipality, lang, t("check_mail"), lines, 200)

    @get("/registrations/{token:str}", exclude_from_auth=True, summary="A resident's registration, by their link")
    async def registration(
        self,
        request: Request[Any, Any, Any],
        municipality: FromPath[str],
        token: FromPath[str],
        rpc: NamedDependency[RpcClient],
    ) -> Response[str]:
        hide_link(request, municipality)
        lang = html.language_of(request.query_params.get("lang"))
        return await self._registration(request, rpc, municipality, token, lang, None)

    @get("/registrations/{token:str}/export", exclude_from_auth=True, summary="A resident's data, by their link")
    async def export(
        self,
        request: Request[Any, Any, Any],
        municipality: FromPath[str],
        token: FromPath[str],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        """Everything held about the registration and who read it, as a JSON file (the right of access)."""
        hide_link(request, municipality)
        lang = html.language_of(request.query_params.get("lang"))
        attempts, key = link_attempts(request), client_key(request)
        if (wait := attempts.refuse(key)) is not None:
            return too_many(request, municipality, lang, wait)
        try:
            # The municipality goes along: the service finds no registration of another's (nor logs the read).
            body = msgspec.convert({"token": token, "municipality": municipality}, ExportResidentData)
            exported = await rpc.call(ops.EXPORT_RESIDENT_DATA, RESIDENT, body)
        except (NotFound, InvalidInput, msgspec.ValidationError):
            attempts.wrong_code(key)
            return not_found(request, municipality, lang)
        return Response(
            msgspec.json.encode(exported),
            media_type="application/json",
            headers={
                "Content-Disposition": 'attachment; filename="my-registration.json"',
                "Cache-Control": "no-store",
                "X-Robots-Tag": "noindex, nofollow",
            },
        )

    @post(
        "/registrations/{token:str}/{step:str}",
        exclude_from_auth=True,
        status_code=200,
        summary="Confirm, accept, cancel or erase a registration, by the resident's link",
    )
    async def step(
        self,
        request: Request[Any, Any, Any],
        municipality: FromPath[str],
        token: FromPath[str],
        step: FromPath[str],
        data: URLEncodedBody[StepForm],
        rpc: NamedDependency[RpcClient],
    ) -> Response[str]:
        hide_link(request, municipality)
        lang = html.language_of(data.lang)
        try:
            wanted = RegistrationStep(step)
        except ValueError:
            return not_found(request, municipality, lang)
        return await self._registration(request, rpc, municipality, token, lang, wanted)

    async def _registration(
        self,
        request: Request[Any, Any, Any],
        rpc: RpcClient,
        municipality: str,
        token: str,
        lang: str,
        step: RegistrationStep | None,
    ) -> Response[str]:
        attempts, key = link_attempts(request), client_key(request)
        if (wait := attempts.refuse(key)) is not None:
            return too_many(request, municipality, lang, wait)
        t = MESSAGES.of(lang)
        # The municipality goes along: the service takes no step on (nor shows) a registration of another's.
        link = {"token": token, "municipality": municipality}
        try:
            if step is None:
                view = await rpc.call(ops.OPEN_REGISTRATION, RESIDENT, msgspec.convert(link, OpenRegistration))
            else:
                body = msgspec.convert({**link, "step": step.value}, TakeRegistrationStep)
                view = await rpc.call(ops.TAKE_REGISTRATION_STEP, RESIDENT, body)
        except (NotFound, InvalidInput, msgspec.ValidationError):
            attempts.wrong_code(key)
            return not_found(request, municipality, lang)
        except Conflict:
            view = await rpc.call(ops.OPEN_REGISTRATION, RESIDENT, msgspec.convert(link, OpenRegistration))
            return registration_page(request, view, token, lang, t("problem"), 409)
        notice = t(f"done.{step.value}") if step is not None else None
        return registration_page(request, view, token, lang, notice, 200)


CALENDAR_CONTROLLERS = [PublicCalendarController]
