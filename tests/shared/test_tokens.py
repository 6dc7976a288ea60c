"""The embedded token issuer: round trips per role, and every kind of bad token refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from shared.clock import FixedClock
from shared.tenancy import Actor, Role
from shared.tokens import AUDIENCE, ISSUER, TokenIssuer

SECRET = "s" * 32
OTHER_SECRET = "o" * 32

ACTORS = {
    Role.OPERATOR: Actor(subject="op-1", role=Role.OPERATOR),
    Role.COORDINATOR: Actor(subject="co-1", role=Role.COORDINATOR, municipality="utrecht"),
    Role.STAFF: Actor(subject="st-1", role=Role.STAFF, municipality="utrecht", library="centrale"),
    Role.PARTNER: Actor(subject="pa-1", role=Role.PARTNER, partner="0190a000-0000-7000-8000-000000000001"),
}


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer(SECRET)


def forge(claims: dict[str, Any], secret: str = SECRET) -> str:
    """A token signed with `secret` whose claims are the valid defaults overridden by `claims` (None drops)."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "someone",
        "iat": now,
        "exp": now + timedelta(hours=1),
        "role": "operator",
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm="HS256")


def test_all_roles_are_covered() -> None:
    assert set(ACTORS) == set(Role)


@pytest.mark.parametrize("role", list(Role), ids=[role.value for role in Role])
def test_issued_token_verifies_to_the_same_actor(issuer: TokenIssuer, role: Role) -> None:
    actor = ACTORS[role]

    assert issuer.verify(issuer.issue(actor)) == actor


def test_forged_token_with_the_right_secret_and_claims_verifies(issuer: TokenIssuer) -> None:
    # The control for the refusals below: `forge` by itself makes an acceptable token.
    assert issuer.verify(forge({})) == Actor(subject="someone", role=Role.OPERATOR)


def test_token_of_another_issuer_instance_with_the_same_secret_verifies(issuer: TokenIssuer) -> None:
    assert TokenIssuer(SECRET).verify(issuer.issue(ACTORS[Role.STAFF])) == ACTORS[Role.STAFF]


def tamper_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = jwt.utils.base64url_decode(payload)
    changed = claims.replace(b'"role":"staff"', b'"role":"operator"')
    assert changed != claims
    return ".".join([header, jwt.utils.base64url_encode(changed).decode(), signature])


def tamper_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return ".".join([header, payload, flipped])


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda issuer: tamper_payload(issuer.issue(ACTORS[Role.STAFF])), jwt.InvalidSignatureError),
        (lambda issuer: tamper_signature(issuer.issue(ACTORS[Role.STAFF])), jwt.InvalidSignatureError),
        (lambda issuer: TokenIssuer(OTHER_SECRET).issue(ACTORS[Role.OPERATOR]), jwt.InvalidSignatureError),
        (
            lambda issuer: issuer.issue(ACTORS[Role.OPERATOR], valid_for=timedelta(seconds=-1)),
            jwt.ExpiredSignatureError,
        ),
        (lambda issuer: forge({"nbf": datetime.now(UTC) + timedelta(minutes=5)}), jwt.ImmatureSignatureError),
        (lambda issuer: forge({"iat": datetime.now(UTC) + timedelta(minutes=5)}), jwt.ImmatureSignatureError),
        (lambda issuer: forge({"aud": "another-api"}), jwt.InvalidAudienceError),
        (lambda issuer: forge({"aud": None}), jwt.MissingRequiredClaimError),
        (lambda issuer: forge({"iss": "someone-else"}), jwt.InvalidIssuerError),
        (lambda issuer: forge({"exp": None}), jwt.MissingRequiredClaimError),
        (lambda issuer: forge({"role": None}), jwt.MissingRequiredClaimError),
        (lambda issuer: forge({"role": "admin"}), jwt.InvalidTokenError),
        (lambda issuer: forge({"role": "staff", "municipality": "utrecht"}), jwt.InvalidTokenError),
        (lambda issuer: forge({"role": "staff", "library": "centrale"}), jwt.InvalidTokenError),
        (lambda issuer: forge({"role": "coordinator"}), jwt.InvalidTokenError),
        (lambda issuer: forge({"role": "partner", "municipality": "utrecht"}), jwt.InvalidTokenError),
        (lambda issuer: "not-a-token", jwt.DecodeError),
    ],
    ids=[
        "tampered-payload",
        "tampered-signature",
        "signed-with-another-secret",
        "expired",
        "not-before-later",
        "issued-later",
        "wrong-audience",
        "no-audience",
        "wrong-issuer",
        "no-expiry",
        "no-role",
        "unknown-role",
        "staff-without-library",
        "staff-without-municipality",
        "coordinator-without-municipality",
        "partner-without-partner",
        "garbage",
    ],
)
def test_bad_token_is_refused(
    issuer: TokenIssuer, make: Callable[[TokenIssuer], str], error: type[jwt.PyJWTError]
) -> None:
    token = make(issuer)

    with pytest.raises(error) as caught:
        issuer.verify(token)

    assert isinstance(caught.value, jwt.PyJWTError)


def test_unknown_role_is_named_in_the_refusal(issuer: TokenIssuer) -> None:
    with pytest.raises(jwt.InvalidTokenError, match="unknown role 'admin'"):
        issuer.verify(forge({"role": "admin"}))


def test_staff_token_missing_its_library_names_what_is_missing(issuer: TokenIssuer) -> None:
    with pytest.raises(jwt.InvalidTokenError, match="a staff token needs a library"):
        issuer.verify(forge({"role": "staff", "municipality": "utrecht"}))


def test_unsigned_token_is_refused(issuer: TokenIssuer) -> None:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": datetime.now(UTC) + timedelta(hours=1)}
    unsigned = jwt.encode({**claims, "role": "operator"}, key="", algorithm="none")

    with pytest.raises(jwt.InvalidAlgorithmError):
        issuer.verify(unsigned)


def test_token_carries_issuer_audience_role_and_scope_claims(issuer: TokenIssuer) -> None:
    claims = jwt.decode(issuer.issue(ACTORS[Role.STAFF]), SECRET, algorithms=["HS256"], audience=AUDIENCE)

    assert claims["iss"] == ISSUER
    assert claims["role"] == "staff"
    assert claims["sub"] == "st-1"
    assert (claims["municipality"], claims["library"]) == ("utrecht", "centrale")
    assert "partner" not in claims


def test_secret_shorter_than_32_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        TokenIssuer("s" * 31)


def test_secret_of_exactly_32_characters_is_accepted() -> None:
    issuer = TokenIssuer("s" * 32)

    assert issuer.verify(issuer.issue(ACTORS[Role.OPERATOR])).role is Role.OPERATOR


def test_the_issuers_clock_decides_when_its_tokens_are_valid() -> None:
    clock = FixedClock(datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
    issuer = TokenIssuer(SECRET, clock=clock)
    token = issuer.issue(ACTORS[Role.OPERATOR], valid_for=timedelta(minutes=5))
    clock.advance(timedelta(seconds=-1))
    with pytest.raises(jwt.ImmatureSignatureError):
        issuer.verify(token)
    clock.advance(timedelta(minutes=5))
    assert issuer.verify(token) == ACTORS[Role.OPERATOR], "a second before it expires"
    clock.advance(timedelta(seconds=1))
    with pytest.raises(jwt.ExpiredSignatureError):
        issuer.verify(token)
