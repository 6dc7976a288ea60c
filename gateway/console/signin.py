"""Signing in with a token (pasted from `partnernet token` or `up --demo`), signing out, the language switch."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect

from gateway.console.demo import read_demo_people
from gateway.console.explain import plain_words
from gateway.console.messages import LANGUAGES
from gateway.console.session import (
    PREFIX,
    Visitor,
    cleared_session_cookie,
    language_cookie,
    session_cookie,
)
from gateway.console.views import HOME, page
from shared.errors import PartnernetError


def safe_next(target: str | None) -> str | None:
    """Only a page of the console itself: never an open redirect to another site."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


class SignInController(Controller):
    path = "/"

    @get("/", name="console:home")
    async def home(self, visitor: NamedDependency[Visitor]) -> Redirect:
        if visitor.actor is None:
            return Redirect(f"{PREFIX}/sign-in", status_code=303)
        return Redirect(HOME[visitor.actor.role], status_code=303)

    @get("/sign-in")
    async def sign_in_page(
        self,
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        next_page: Annotated[str | None, QueryParameter(name="next")] = None,
        signed_out: FromQuery[bool] = False,
        expired: FromQuery[bool] = False,
    ) -> Response[str]:
        return page(
            visitor,
            "signin.html",
            section="sign-in",
            next=safe_next(next_page) or "",
            oidc=request.app.state.authenticator.oidc is not None,
            demo_people=read_demo_people(request.app.state.demo_people_file),
            notice="signin.signed_out" if signed_out else ("signin.expired" if expired else None),
            problem=None,
        )

    @post("/sign-in", status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor]) -> Response[Any]:
        form = await request.form()
        token = str(form.get("token") or "").strip()
        target = safe_next(str(form.get("next") or ""))
        return await signed_in(request, visitor, token, target)

    @post("/sign-in/demo", status_code=303)
    async def sign_in_as_demo_person(
        self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor]
    ) -> Response[Any]:
        """One of the demo's people, chosen on the sign-in page: only on a platform started with `up --demo`."""
        people = read_demo_people(request.app.state.demo_people_file)
        form = await request.form()
        chosen = str(form.get("person") or "")
        if not chosen.isdigit() or int(chosen) >= len(people):
            raise NotFoundException("no demo person to sign in as")
        token = request.app.state.issuer.issue(people[int(chosen)].actor())
        return await signed_in(request, visitor, token, safe_next(str(form.get("next") or "")))

    @post("/sign-out", status_code=303)
    async def sign_out(self, visitor: NamedDependency[Visitor]) -> Redirect:
        return Redirect(
            f"{PREFIX}/sign-in?signed_out=true",
            status_code=303,
            cookies=[cleared_session_cookie(secure=visitor.secure)],
        )

    @post("/language", status_code=303)
    async def language(self, request: Request[Any, Any, Any], visitor: NamedDependency[Visitor]) -> Redirect:
        form = await request.form()
        lang = str(form.get("lang") or "")
        target = safe_next(str(form.get("next") or "")) or f"{PREFIX}/"
        if lang not in LANGUAGES:
            return Redirect(target, status_code=303)
        return Redirect(target, status_code=303, cookies=[language_cookie(lang, secure=visitor.secure)])


async def signed_in(request: Request[Any, Any, Any], visitor: Visitor, token: str, target: str | None) -> Response[Any]:
    """The session for a token that holds (the gateway checks it as for the API), else the sign-in page again."""
    try:
        actor = await request.app.state.authenticator.from_token(token)
    except (NotAuthorizedException, PartnernetError):
        return page(
            visitor,
            "signin.html",
            status=401,
            section="sign-in",
            next=target or "",
            oidc=request.app.state.authenticator.oidc is not None,
            demo_people=read_demo_people(request.app.state.demo_people_file),
            notice=None,
            problem=plain_words(visitor.lang, "unauthorized", visitor.t("signin.token_not_valid")),
        )
    return Redirect(target or HOME[actor.role], status_code=303, cookies=[session_cookie(token, secure=visitor.secure)])
