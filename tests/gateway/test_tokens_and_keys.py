"""Tokens of an OpenID Connect issuer (verified against a real JWKS endpoint), API keys' cache and scopes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar.exceptions import NotAuthorizedException

from gateway.auth import ApiKeyCache, Authenticator, VerifiedTokens, required_scope
from shared.clock import FixedClock
from shared.tenancy import Actor, Role
from shared.tokens import ClaimNames, OidcVerifier, TokenIssuer
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


SECRET = "a-test-secret-of-at-least-thirty-two-characters"


class CountingIssuer(TokenIssuer):
    """The embedded issuer, counting the tokens it verifies (signature and claims)."""

    verified = 0

    def verify_until(self, token: str) -> tuple[Actor, float]:
        self.verified += 1
        return super().verify_until(token)


def authenticator(issuer: TokenIssuer, tokens: VerifiedTokens | None = None) -> Authenticator:
    # An operator's token names no tenant, so the partners service is never asked (rpc unused).
    return Authenticator(issuer=issuer, oidc=None, rpc=None, api_keys=ApiKeyCache(30.0), tokens=tokens)  # type: ignore[arg-type]


OPERATOR = Actor(subject="op-1", role=Role.OPERATOR)


async def test_a_token_is_verified_once_and_then_known() -> None:
    issuer = CountingIssuer(SECRET)
    auth = authenticator(issuer)
    token = issuer.issue(OPERATOR)
    assert [await auth.from_token(token) for _ in range(3)] == [OPERATOR] * 3
    assert issuer.verified == 1


async def test_a_known_token_is_refused_once_it_expires() -> None:
    # The issuer and the gateway's memory of verified tokens read one clock, moved by the test: no waiting for expiry.
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))  # a whole second: `exp` is one too
    issuer = CountingIssuer(SECRET, clock=clock)
    auth = authenticator(issuer, VerifiedTokens(3600.0, clock=lambda: clock.now().timestamp()))
    token = issuer.issue(OPERATOR, valid_for=timedelta(minutes=5))
    assert await auth.from_token(token) == OPERATOR
    clock.advance(timedelta(minutes=5) - timedelta(milliseconds=1))
    assert await auth.from_token(token) == OPERATOR
    assert issuer.verified == 1, "until it expires the token is answered from memory"
    clock.advance(timedelta(milliseconds=1))  # PyJWT's rule: expired once `exp` is not later than now
    with pytest.raises(NotAuthorizedException, match="expired"):
        await auth.from_token(token)
    assert issuer.verified == 2, "the expired token was checked again, not answered from memory"


async def test_tokens_that_do_not_verify_are_never_remembered() -> None:
    issuer = CountingIssuer(SECRET)
    auth = authenticator(issuer)
    good = issuer.issue(OPERATOR)
    assert await auth.from_token(good) == OPERATOR
    header, claims, signature = good.split(".")
    forged = TokenIssuer("another-secret-of-at-least-thirty-two-chars").issue(Actor(subject="op-1", role=Role.OPERATOR))
    tampered = f"{header}.{claims}.{signature[:-2]}AA"
    for bad in (forged, tampered, forged):
        with pytest.raises(NotAuthorizedException):
            await auth.from_token(bad)
    assert issuer.verified == 4


def test_a_verified_token_is_kept_no_longer_than_the_ttl_nor_its_expiry() -> None:
    now = [1000.0]
    tokens = VerifiedTokens(30.0, clock=lambda: now[0])
    tokens.put(b"long", OPERATOR, expires_at=5000.0)
    tokens.put(b"short", OPERATOR, expires_at=1010.0)
    now[0] = 1009.9
    assert tokens.get(b"long") == OPERATOR and tokens.get(b"short") == OPERATOR
    now[0] = 1010.0  # PyJWT: a token is expired once its exp is not later than now
    assert tokens.get(b"short") is None and tokens.get(b"long") == OPERATOR
    now[0] = 1030.0
    assert tokens.get(b"long") is None


def test_the_verified_tokens_are_bounded_and_a_ttl_of_zero_keeps_none() -> None:
    tokens = VerifiedTokens(30.0, max_entries=2)
    far = time.time() + 3600
    for key in (b"a", b"b", b"c"):
        tokens.put(key, OPERATOR, far)
    assert tokens.get(b"a") is None and tokens.get(b"c") == OPERATOR
    none = VerifiedTokens(0.0)
    none.put(b"a", OPERATOR, far)
    assert none.get(b"a") is None


async def test_an_oidc_token_is_valid_until_its_expiry_plus_the_issuers_leeway(keys: Keys, jwks_url: str) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url, leeway_seconds=30.0)
    signed = token(keys)
    actor, expires_at = await verifier.verify_until(signed)
    assert actor.subject == "medewerker-17"
    assert expires_at == jwt.decode(signed, options={"verify_signature": False})["exp"] + 30.0


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
