"""Signing in with the configured OpenID Connect provider: the authorization-code flow with PKCE (S256).

What is supported, deliberately small:
- a provider with discovery (`<PARTNERNET_OIDC_ISSUER>/.well-known/openid-configuration`);
- the console is a public client: its client id is `PARTNERNET_OIDC_AUDIENCE`, no client secret; register
  `<gateway>/console/sign-in/oidc/callback` as its redirect URI; scope `openid`;
- the token kept in the session cookie is the access token when the gateway accepts it (issuer, audience,
  role and scope claims as for the API), else the ID token (whose `aud` is the client id); the ID token's
  `nonce` must be the one sent;
- no refresh tokens (when the token expires the person signs in again) and no single logout.
The state, nonce and PKCE verifier wait in a short-lived HttpOnly cookie (SameSite=Lax: it must come back on
the provider's redirect); the session cookie stays SameSite=Strict, so the callback answers with a page that
moves on by itself instead of a redirect (a Strict cookie is not sent on a navigation that began elsewhere).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import jwt
from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect

from gateway.console.explain import plain_words
from gateway.console.session import PREFIX, Visitor, session_cookie
from gateway.console.signin import safe_next
from gateway.console.views import HOME, page
from shared.errors import PartnernetError
from shared.tokens import OidcVerifier

FLOW_COOKIE = "pn_oidc"
FLOW_PATH = f"{PREFIX}/sign-in/oidc"
FLOW_SECONDS = 600
HTTP_TIMEOUT = 5.0

Query = FromQuery[str | None]


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next: str


def code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def encode_flow(flow: Flow) -> str:
    return base64.urlsafe_b64encode(json.dumps(asdict(flow)).encode()).decode()


def decode_flow(value: str | None) -> Flow | None:
    if not value:
        return None
    try:
        return Flow(**json.loads(base64.urlsafe_b64decode(value.encode())))
    except (ValueError, TypeError):
        return None


def redirect_uri(request: Request[Any, Any, Any], *, secure: bool) -> str:
    base = str(request.base_url).rstrip("/")
    if secure and base.startswith("http://"):
        base = "https://" + base.removeprefix("http://")
    return f"{base}{FLOW_PATH}/callback"


def flow_cookie(value: str, *, secure: bool, max_age: int = FLOW_SECONDS) -> Cookie:
    return Cookie(
        key=FLOW_COOKIE, value=value, path=FLOW_PATH, httponly=True, secure=secure, samesite="lax", max_age=max_age
    )


def provider(request: Request[Any, Any, Any]) -> OidcVerifier:
    verifier: OidcVerifier | None = request.app.state.authenticator.oidc
    if verifier is None:
        raise NotFoundException("no OpenID Connect provider is configured")
    return verifier


class OidcController(Controller):
    path = "/sign-in/oidc"

    @get("/")
    async def start(
        self,
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        next_page: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Response[Any]:
        oidc = provider(request)
        try:
            configuration = await oidc.configuration()
        except jwt.InvalidTokenError as exc:
            return self._failed(visitor, f"the provider's configuration could not be read: {exc}")
        if configuration.authorization_endpoint is None or configuration.token_endpoint is None:
            return self._failed(visitor, "the provider's configuration names no authorization or token endpoint")
        flow = Flow(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            next=safe_next(next_page) or "",
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": oidc.audience,
                "redirect_uri": redirect_uri(request, secure=visitor.secure),
                "scope": "openid",
                "state": flow.state,
                "nonce": flow.nonce,
                "code_challenge": code_challenge(flow.verifier),
                "code_challenge_method": "S256",
            }
        )
        return Redirect(
            f"{configuration.authorization_endpoint}?{query}",
            status_code=302,
            cookies=[flow_cookie(encode_flow(flow), secure=visitor.secure)],
        )

    @get("/callback")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        visitor: NamedDependency[Visitor],
        code: Query = None,
        returned_state: Annotated[str | None, QueryParameter(name="state")] = None,
        error: Query = None,
        error_description: Query = None,
    ) -> Response[Any]:
        oidc = provider(request)
        flow = decode_flow(request.cookies.get(FLOW_COOKIE))
        if error:
            return self._failed(visitor, f"the provider answered {error}: {error_description or ''}".strip())
        if flow is None or not returned_state or not secrets.compare_digest(returned_state, flow.state) or not code:
            return self._failed(visitor, "the answer does not belong to a sign-in started here (state)")
        try:
            configuration = await oidc.configuration()
            if configuration.token_endpoint is None:
                raise ValueError("the provider's configuration names no token endpoint")
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
                response = await client.post(
                    configuration.token_endpoint,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri(request, secure=visitor.secure),
                        "client_id": oidc.audience,
                        "code_verifier": flow.verifier,
                    },
                    headers={"Accept": "application/json"},
                )
                response.raise_for_status()
                tokens = response.json()
        except (httpx.HTTPError, jwt.InvalidTokenError, KeyError, ValueError) as exc:
            return self._failed(visitor, f"the provider did not give a token: {exc}")
        id_token = tokens.get("id_token") if isinstance(tokens.get("id_token"), str) else None
        if id_token is not None and not nonce_matches(id_token, flow.nonce):
            return self._failed(visitor, "the ID token was not made for this sign-in (nonce)")
        candidates = [tokens.get("access_token"), id_token]
        reasons: list[str] = []
        for candidate in candidates:
            if not isinstance(candidate, str) or not candidate:
                continue
            try:
                actor = await request.app.state.authenticator.from_token(candidate)
            except (NotAuthorizedException, PartnernetError) as exc:
                reasons.append(str(getattr(exc, "detail", exc)))
                continue
            target = flow.next or HOME[actor.role]
            return page(
                visitor,
                "signin_done.html",
                section="sign-in",
                target=target,
                cookies=[
                    session_cookie(candidate, secure=visitor.secure),
                    flow_cookie("", secure=visitor.secure, max_age=0),
                ],
            )
        return self._failed(visitor, "; ".join(reasons) or "the provider gave no token")

    @staticmethod
    def _failed(visitor: Visitor, detail: str) -> Response[str]:
        return page(
            visitor,
            "signin.html",
            status=401,
            section="sign-in",
            next="",
            oidc=True,
            demo_people=[],  # a platform with an OpenID Connect provider is no demo
            notice=None,
            problem=plain_words(visitor.lang, "unauthorized", detail),
        )


def nonce_matches(id_token: str, nonce: str) -> bool:
    """The ID token came straight from the token endpoint over the back channel; its signature is checked when
    it is the token kept. Here only: was it made for this sign-in."""
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    sent = claims.get("nonce")
    return isinstance(sent, str) and secrets.compare_digest(sent, nonce)
