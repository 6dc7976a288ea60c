"""Tokens of an OpenID Connect issuer (verified against a real JWKS endpoint), API keys' cache and scopes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.auth import ApiKeyCache, required_scope
from shared.tenancy import Role
from shared.tokens import ClaimNames, OidcVerifier
from tests.gateway.jwks import AUDIENCE, ISSUER, Keys, serve_jwks, token


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def jwks_url(keys: Keys) -> Iterator[str]:
    with serve_jwks(keys) as url:
        yield url


async def test_an_rs256_token_of_the_configured_issuer_becomes_an_actor(keys: Keys, jwks_url: str) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)
    actor = await verifier.verify(token(keys))
    assert (actor.subject, actor.role, actor.municipality, actor.library) == (
        "medewerker-17",
        Role.STAFF,
        "zuidstad",
        "bieb-zuid",
    )


async def test_an_es256_token_is_verified_too(keys: Keys, jwks_url: str) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)
    actor = await verifier.verify(token(keys, alg="ES256", kid="ec-1", role="coordinator", library=None))
    assert actor.role is Role.COORDINATOR and actor.library is None


async def test_the_key_set_is_fetched_once_and_cached(keys: Keys, jwks_url: str) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)
    before = keys.fetches
    for _ in range(5):
        await verifier.verify(token(keys))
    assert keys.fetches - before == 1


async def test_the_jwks_url_is_discovered_from_the_issuer_when_not_given(keys: Keys, jwks_url: str) -> None:
    issuer = jwks_url.removesuffix("/jwks")
    verifier = OidcVerifier(issuer=issuer, audience=AUDIENCE)
    assert (await verifier.verify(token(keys, iss=issuer))).role is Role.STAFF


@pytest.mark.parametrize(
    ("why", "overrides"),
    [
        ("another audience", {"aud": "someone-else"}),
        ("another issuer", {"iss": "https://evil.example"}),
        ("expired", {"exp": datetime.now(UTC) - timedelta(hours=1)}),
        ("no role", {"role": None}),
        ("two partnernet roles", {"role": ["staff", "operator"]}),
        ("staff without a library", {"library": None}),
        ("a scope claim that is not a string", {"library": ["bieb-zuid"]}),
    ],
)
async def test_tokens_that_do_not_hold_are_refused(
    keys: Keys, jwks_url: str, why: str, overrides: dict[str, Any]
) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)
    with pytest.raises(jwt.InvalidTokenError):
        await verifier.verify(token(keys, **overrides))


async def test_a_token_signed_by_a_key_not_in_the_set_is_refused(keys: Keys, jwks_url: str) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    forged = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + timedelta(minutes=5), "role": "operator"},
        stranger,
        algorithm="RS256",
        headers={"kid": "rsa-1"},
    )
    with pytest.raises(jwt.InvalidTokenError):
        await verifier.verify(forged)


async def test_role_and_scope_claims_can_live_elsewhere_in_the_token(keys: Keys, jwks_url: str) -> None:
    verifier = OidcVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=jwks_url,
        claims=ClaimNames(role="realm_access.roles", municipality="gemeente"),
    )
    actor = await verifier.verify(
        token(
            keys,
            role=None,
            library=None,
            municipality=None,
            realm_access={"roles": ["offline_access", "coordinator"]},
            gemeente="noordstad",
        )
    )
    assert (actor.role, actor.municipality) == (Role.COORDINATOR, "noordstad")


async def test_a_token_with_an_unknown_key_id_fetches_the_set_again_at_most_once_per_interval(
    keys: Keys, jwks_url: str
) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url, refetch_interval=3600)
    await verifier.verify(token(keys))
    before = keys.fetches
    for _ in range(5):
        with pytest.raises(jwt.InvalidTokenError, match="no key 'made-up'"):
            await verifier.verify(token(keys, kid="made-up"))
    assert keys.fetches == before, "made-up key ids must not make the gateway fetch the key set each time"


async def test_a_rotated_key_is_found_by_fetching_the_set_again() -> None:
    keys = Keys()
    with serve_jwks(keys) as url:
        verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=url, refetch_interval=0)
        assert (await verifier.verify(token(keys))).role is Role.STAFF
        keys.rotate()
        fetched = keys.fetches

        actor = await verifier.verify(token(keys, kid=keys.rsa_kid))

        assert actor.role is Role.STAFF and keys.fetches == fetched + 1


async def test_the_discovery_document_gives_the_sign_in_endpoints_and_is_read_once(keys: Keys, jwks_url: str) -> None:
    verifier = OidcVerifier(issuer=jwks_url.removesuffix("/jwks"), audience=AUDIENCE)

    first = await verifier.configuration()
    again = await verifier.configuration()

    assert first is again and first.jwks_uri == jwks_url
    assert first.authorization_endpoint is None  # the test provider's document names none


def test_an_issuer_needs_an_audience() -> None:
    with pytest.raises(ValueError, match="audience"):
        OidcVerifier(issuer=ISSUER, audience="")


def test_the_api_key_cache_forgets_after_its_ttl() -> None:
    now = [1000.0]
    cache = ApiKeyCache(30.0, clock=lambda: now[0])
    cache.put("digest", None)
    assert cache.get("digest") == (True, None)
    now[0] += 30.5
    assert cache.get("digest") == (False, None)


def test_the_api_key_cache_is_bounded() -> None:
    cache = ApiKeyCache(30.0, max_entries=2, clock=time.monotonic)
    for digest in ("a", "b", "c"):
        cache.put(digest, None)
    assert cache.get("a") == (False, None)
    assert cache.get("c") == (True, None)


@pytest.mark.parametrize(
    ("path", "method", "scope"),
    [
        ("/api/v1/referrals", "POST", "referrals:write"),
        ("/api/v1/referrals/{referral_id}", "GET", "referrals:read"),
        ("/api/v1/referrals/{referral_id}/accept", "POST", "referrals:write"),
        ("/api/v1/partners/{partner_id}/feed", "GET", "feed:read"),
        ("/api/v1/partners/{partner_id}/feed/live", "GET", "feed:read"),
        ("/api/v1/libraries/{library}/referrals/live", "GET", "referrals:read"),
        ("/api/v1/courses/{course_id}/sessions/{session_id}/enrolments", "POST", "enrolments:write"),
        ("/api/v1/something-new/{id}", "DELETE", "something-new:write"),
    ],
)
def test_the_scope_an_api_key_needs_follows_the_route(path: str, method: str, scope: str) -> None:
    assert required_scope(path, method) == scope


def test_a_route_can_name_its_scope() -> None:
    assert required_scope("/api/v1/referrals/statistics", "GET", {"scope": "statistics:read"}) == "statistics:read"
