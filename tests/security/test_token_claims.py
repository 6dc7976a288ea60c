"""Finding 7: a signed token is a credential only if its claims hold. Scope claims are slugs and UUIDs of
tenants that exist and belong together (never a NATS wildcard), `sub` is a real subject, `exp` a sane number,
`aud` the one audience; the issuer refuses to mint what the gateway would refuse."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from shared.tenancy import Actor, Role
from shared.tokens import AUDIENCE, ISSUER, OidcVerifier, TokenIssuer
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.gateway.jwks import AUDIENCE as OIDC_AUDIENCE
from tests.gateway.jwks import ISSUER as OIDC_ISSUER
from tests.gateway.jwks import Keys, serve_jwks
from tests.gateway.jwks import token as oidc_token
from tests.referral_bodies import referral_body

SECRET = "s" * 32
PARTNER = "0190a000-0000-7000-8000-000000000001"


def forge(secret: str = SECRET, **claims: Any) -> str:
    """A token signed with the issuer's secret: the valid defaults of a staff token, overridden (None drops)."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "medewerker-1",
        "iat": now,
        "exp": now + timedelta(hours=1),
        "role": "staff",
        "municipality": "zuidstad",
        "library": "bieb-zuid",
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm="HS256")


BAD_CLAIMS: dict[str, dict[str, Any]] = {
    "library is a NATS wildcard *": {"library": "*"},
    "library is a NATS wildcard >": {"library": ">"},
    "library holds a subject separator": {"library": "bieb.zuid"},
    "municipality is a wildcard": {"municipality": "*"},
    "municipality with a space": {"municipality": "zuid stad"},
    "library in capitals": {"library": "BIEB-ZUID"},
    "empty subject": {"sub": ""},
    "blank subject": {"sub": "   "},
    "subject with a newline": {"sub": "a\nb"},
    "subject of the platform itself": {"sub": "system"},
    "subject of an API key": {"sub": "api-key:0190a000-0000-7000-8000-000000000009"},
    "subject is a number": {"sub": 17},
    "exp is a string": {"exp": str(int(datetime.now(UTC).timestamp()) + 3600)},
    "exp is 1e20": {"exp": 1e20},
    "exp a year away": {"exp": int((datetime.now(UTC) + timedelta(days=365)).timestamp())},
    "exp is a boolean": {"exp": True},
    "iat is a string": {"iat": "0"},
    "aud is a list": {"aud": [AUDIENCE, "another-api"]},
    "aud is a list of one": {"aud": [AUDIENCE]},
    "partner is not a uuid": {"role": "partner", "library": None, "partner": "not-a-uuid"},
    "partner uuid not in canonical form": {"role": "partner", "library": None, "partner": PARTNER.upper()},
    "partner is a wildcard": {"role": "partner", "library": None, "partner": ">"},
    "operator with a library": {"role": "operator", "municipality": None},
    "coordinator with a library": {"role": "coordinator"},
    "staff with a partner": {"partner": PARTNER},
    "role is a list": {"role": ["staff"]},
}


@pytest.mark.parametrize("claims", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_the_embedded_issuer_refuses_claims_that_do_not_hold(claims: dict[str, Any]) -> None:
    issuer = TokenIssuer(SECRET)
    assert issuer.verify(forge())  # the control: the defaults make a valid token
    with pytest.raises(jwt.InvalidTokenError):
        issuer.verify(forge(**claims))


BAD_ACTORS = {
    "library *": Actor(subject="s", role=Role.STAFF, municipality="zuidstad", library="*"),
    "library >": Actor(subject="s", role=Role.STAFF, municipality="zuidstad", library=">"),
    "municipality *": Actor(subject="s", role=Role.COORDINATOR, municipality="*"),
    "empty subject": Actor(subject="", role=Role.OPERATOR),
    "subject of an API key": Actor(subject="api-key:x", role=Role.OPERATOR),
    "partner not a uuid": Actor(subject="s", role=Role.PARTNER, partner="not-a-uuid"),
    "operator with a municipality": Actor(subject="s", role=Role.OPERATOR, municipality="zuidstad"),
    "staff without a library": Actor(subject="s", role=Role.STAFF, municipality="zuidstad"),
}


@pytest.mark.parametrize("actor", BAD_ACTORS.values(), ids=BAD_ACTORS.keys())
def test_the_issuer_refuses_to_mint_what_the_gateway_would_refuse(actor: Actor) -> None:
    with pytest.raises(ValueError):
        TokenIssuer(SECRET).issue(actor)


def test_the_issuer_refuses_to_mint_a_token_valid_for_longer_than_a_month() -> None:
    with pytest.raises(ValueError, match="at most"):
        TokenIssuer(SECRET).issue(Actor(subject="s", role=Role.OPERATOR), valid_for=timedelta(days=365))


@pytest.fixture(scope="module")
def oidc() -> Iterator[tuple[Keys, str]]:
    keys = Keys()
    with serve_jwks(keys) as url:
        yield keys, url


@pytest.mark.parametrize(
    "claims",
    [
        {"library": "*"},
        {"library": ">"},
        {"municipality": "zuid.stad"},
        {"sub": ""},
        {"exp": "99999999999"},
        {"exp": 1e20},
        {"role": "partner", "library": None, "partner": "not-a-uuid"},
    ],
    ids=["library *", "library >", "municipality with a dot", "empty sub", "exp a string", "exp 1e20", "partner"],
)
async def test_an_openid_connect_issuer_gets_the_same_checks(oidc: tuple[Keys, str], claims: dict[str, Any]) -> None:
    keys, url = oidc
    verifier = OidcVerifier(issuer=OIDC_ISSUER, audience=OIDC_AUDIENCE, jwks_url=url)
    assert await verifier.verify(oidc_token(keys))  # the control
    with pytest.raises(jwt.InvalidTokenError):
        await verifier.verify(oidc_token(keys, **claims))


# --- from outside, over HTTP ----------------------------------------------------------------------


def signed(platform: RunningPlatform, **claims: Any) -> str:
    return forge(platform.settings.jwt_secret, **claims)


async def test_a_staff_token_whose_library_is_of_another_municipality_reads_nothing(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        submitted = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert submitted.status_code == 201
    other = await register_tenant(platform)
    # Signed by the platform's own secret, but library A does not belong to the other municipality.
    mismatched = signed(platform, municipality=other.municipality, library=tenant.library_a)
    async with platform.client(mismatched) as api:
        read = await api.get(f"/api/v1/referrals/{submitted.json()['id']}")
        listed = await api.get("/api/v1/referrals")
    assert read.status_code == 401
    assert listed.status_code == 401
    assert read.headers["content-type"].startswith("application/problem+json")


async def test_a_token_for_a_library_or_partner_that_is_not_registered_is_refused(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    tokens = {
        "unregistered library": signed(platform, municipality=tenant.municipality, library="bieb-nergens"),
        "unregistered municipality": signed(platform, role="coordinator", municipality="nergens", library=None),
        "unregistered partner": signed(
            platform, role="partner", municipality=None, library=None, partner=str(uuid.uuid4())
        ),
        "partner of another municipality": signed(
            platform, role="partner", municipality="nergens", library=None, partner=tenant.partner_a
        ),
    }
    for what, token in tokens.items():
        async with platform.client(token) as api:
            response = await api.get("/api/v1/partners")
        assert response.status_code == 401, what
    # The control: the same shapes naming registered tenants are let in.
    good = signed(platform, municipality=tenant.municipality, library=tenant.library_a)
    partner = signed(platform, role="partner", municipality=None, library=None, partner=tenant.partner_a)
    for token in (good, partner):
        async with platform.client(token) as api:
            assert (await api.get("/api/v1/partners")).status_code == 200


async def test_a_wildcard_library_cannot_open_the_live_stream_of_every_municipality(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    for library in ("*", ">"):
        token = signed(platform, municipality=tenant.municipality, library=library)
        async with platform.client(token) as api:
            response = await api.get(f"/api/v1/libraries/{library}/referrals/live")
        assert response.status_code == 401, library
    # An operator naming a wildcard in the path gets nothing either (the library becomes part of a subject):
    # the path is refused as naming no library (not a slug), before any subject is made of it.
    async with platform.client(tenant.operator) as api:
        for library in ("*", ">", "a.b"):
            response = await api.get(f"/api/v1/libraries/{library}/referrals/live")
            assert response.status_code == 422, library
            assert response.headers["content-type"].startswith("application/problem+json")


async def test_partnernet_token_mints_only_for_registered_tenants_and_records_support_tokens(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant
) -> None:
    from launcher.operator_tokens import AUDIT_FILE, issue_token

    def mint(role: Role, **scope: str | None) -> str:
        values = {"library": None, "partner": None, "municipality": None, **scope}
        return issue_token(platform.settings, role, **values)

    refused = {
        "an unregistered library": dict(role=Role.STAFF, library="bieb-nergens"),
        "a library of another municipality": dict(
            role=Role.STAFF, library=tenant.library_a, municipality=elsewhere.municipality
        ),
        "an unregistered partner": dict(role=Role.PARTNER, partner=str(uuid.uuid4())),
        "a wildcard library": dict(role=Role.STAFF, library="*", municipality=tenant.municipality),
    }
    for what, arguments in refused.items():
        with pytest.raises(SystemExit):
            await asyncio.to_thread(mint, **arguments)  # type: ignore[arg-type]
        assert what
    token = await asyncio.to_thread(mint, Role.PARTNER, partner=tenant.partner_a)
    actor = platform.issuer.verify(token)
    assert actor.subject.startswith("support:") and actor.municipality == tenant.municipality
    async with platform.client(token) as api:
        assert (await api.get(f"/api/v1/partners/{tenant.partner_a}")).status_code == 200
    audit = (platform.settings.data_dir / AUDIT_FILE).read_text().splitlines()
    last = json.loads(audit[-1])
    assert last["partner"] == tenant.partner_a and last["subject"] == actor.subject
    assert last["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
