"""The generated creates whose request is their whole body are answered by the gateway's one pass
(gateway/fast_writes.py), not by Litestar's route: the answers must be the ones Litestar's route gives. The same
POST with a trailing slash still goes through Litestar's route (its router takes it, the fast path does not), so the
two are compared; a body that is not the request is handed to Litestar's route, so bad input gets its problems."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from gateway.app import create_app
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.referrals import ReferralStatus, ReferralView, SubmitReferral
from shared.errors import Conflict
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer
from tests.fixtures.platform import make_settings
from tests.gateway.stubs import StubbedGateway, stubbed_gateway
from tests.referral_bodies import referral_body

PARTNER = "01a226a7-0000-7000-8000-000000000001"
REFUSED_REASON = "refused by the stub"  # a body with this reason is answered with a service error
# Headers that differ between any two requests.
PER_REQUEST = {"x-request-id", "ratelimit-remaining", "ratelimit-reset", "date"}


# One gateway for the module: building one and completing its OpenAPI document as it starts costs about a second of
# the worker's CPU. A test counts only the stubs' calls made while it runs (`gateway` below).
@pytest.fixture(scope="module")
async def module_gateway(
    lonely_nats: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StubbedGateway]:
    data_dir = tmp_path_factory.mktemp("gateway") / "data"
    async with stubbed_gateway(make_settings(lonely_nats, database_url, data_dir)) as running:

        async def submit(actor: Actor, command: SubmitReferral) -> ReferralView:
            if command.reason == REFUSED_REASON:
                raise Conflict("the stub refuses this one", current={"version": 3})
            # Every field the view has, as the service encodes it (from the declared type, defaults included).
            return ReferralView(
                id=uuid.UUID("01a226a7-0000-7000-8000-0000000000aa"),
                status=ReferralStatus.SUBMITTED,
                library=command.library,
                municipality="utrecht",
                referring_partner_id=command.referring_partner_id,
                participant_pseudonym="P-stub",
                needs=command.needs,
                reason=command.reason,
                preferred_channel=command.preferred_channel,
                contact_person=command.contact_person,
                consent=_consent(command),
                submitted_at=datetime(2026, 12, 4, 18, 0, tzinfo=UTC),
                participant=command.participant,
            )

        await running.stubs.answer(referral_ops.SUBMIT_REFERRAL, submit)
        yield running


@pytest.fixture
def gateway(module_gateway: StubbedGateway) -> StubbedGateway:
    module_gateway.stubs.calls.clear()
    return module_gateway


def _consent(command: SubmitReferral) -> Any:
    """The consent as the view holds it (its own type), from the one the request gave."""
    consent_type = next(field.type for field in msgspec.structs.fields(ReferralView) if field.name == "consent")
    return msgspec.convert(msgspec.to_builtins(command.consent), consent_type)


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST}
    body = response.json()
    if isinstance(body, dict):
        body.pop("instance", None)  # the path asked, slash and all
    return response.status_code, headers, body


def test_the_creates_from_a_body_are_found_and_others_left_to_litestar(tmp_path: Path) -> None:
    app = create_app(make_settings("nats://127.0.0.1:1", "postgresql://x@127.0.0.1:1/x", tmp_path))
    fast = app.asgi_handler.fast_writes  # type: ignore[attr-defined]
    write = fast.match("POST", "/api/v1/referrals")
    assert write is not None and write.template == "/api/v1/referrals" and write.status == 201
    assert write.operation is referral_ops.SUBMIT_REFERRAL
    assert fast.match("GET", "/api/v1/referrals") is None
    assert fast.match("POST", "/api/v1/referrals/") is None
    assert fast.match("PUT", "/api/v1/referrals/policy") is None  # If-Match: Litestar's
    assert fast.match("POST", f"/api/v1/referrals/{PARTNER}/accept") is None  # the path gives the referral


@pytest.mark.parametrize("reason", ["Wil solliciteren", REFUSED_REASON])
async def test_a_fast_write_answers_as_litestars_route(gateway: StubbedGateway, reason: str) -> None:
    body = referral_body("utrecht-centrum", PARTNER, reason=reason)
    async with gateway.client(_token_for(gateway)) as api:
        fast = await api.post("/api/v1/referrals", json=body)
        routed = await api.post("/api/v1/referrals/", json=body)
    assert _comparable(fast) == _comparable(routed)
    assert len(fast.headers["x-request-id"]) == 32 and "ratelimit-limit" in fast.headers
    if reason == REFUSED_REASON:
        assert fast.status_code == 409 and fast.json()["instance"] == "/api/v1/referrals"
    else:
        assert fast.status_code == 201 and fast.headers["etag"] == '"1"'
        assert fast.json()["participant"]["name"] == "Fatima El Amrani"
    calls = [call for call in gateway.stubs.calls if call[0] == referral_ops.SUBMIT_REFERRAL.subject]
    assert len(calls) == 2 and calls[0][2] == calls[1][2], "each answered by the service once, the same request"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"[]",
        msgspec.json.encode(referral_body("utrecht-centrum", PARTNER, preferred_channel="pigeon")),
        msgspec.json.encode({k: v for k, v in referral_body("utrecht-centrum", PARTNER).items() if k != "library"}),
        b"\xff\xfe",
    ],
)
async def test_bad_input_is_litestars_problem(gateway: StubbedGateway, content: bytes) -> None:
    headers = {"content-type": "application/json"}
    async with gateway.client(_token_for(gateway)) as api:
        fast = await api.post("/api/v1/referrals", content=content, headers=headers)
        routed = await api.post("/api/v1/referrals/", content=content, headers=headers)
    assert fast.status_code in (400, 422) and fast.headers["content-type"] == "application/problem+json"
    assert _comparable(fast) == _comparable(routed)
    assert not [call for call in gateway.stubs.calls if call[0] == referral_ops.SUBMIT_REFERRAL.subject]


async def test_a_fast_write_without_or_with_bad_credentials_is_the_same_problem(gateway: StubbedGateway) -> None:
    body = referral_body("utrecht-centrum", PARTNER)
    async with gateway.client() as anonymous, gateway.client("not-a-token") as bad:
        for api in (anonymous, bad):
            fast = await api.post("/api/v1/referrals", json=body)
            routed = await api.post("/api/v1/referrals/", json=body)
            assert fast.status_code == 401
            assert _comparable(fast) == _comparable(routed)
    assert not [call for call in gateway.stubs.calls if call[0] == referral_ops.SUBMIT_REFERRAL.subject]


def _token_for(gateway: StubbedGateway) -> str:
    return TokenIssuer(gateway.settings.jwt_secret).issue(
        Actor(subject="anna", role=Role.STAFF, municipality="utrecht", library="utrecht-centrum")
    )


async def test_a_body_over_the_limit_is_the_413_problem_litestar_gives(gateway: StubbedGateway) -> None:
    content = b'{"reason": "' + b"x" * gateway.settings.max_body_bytes + b'"}'
    headers = {"content-type": "application/json"}
    async with gateway.client(_token_for(gateway)) as api:
        fast = await api.post("/api/v1/referrals", content=content, headers=headers)
        routed = await api.post("/api/v1/referrals/", content=content, headers=headers)
    assert fast.status_code == 413 and fast.headers["content-type"] == "application/problem+json"
    assert _comparable(fast) == _comparable(routed)
    assert not [call for call in gateway.stubs.calls if call[0] == referral_ops.SUBMIT_REFERRAL.subject]


async def test_a_create_with_an_idempotency_key_runs_once_and_replays_its_answer(gateway: StubbedGateway) -> None:
    """Whichever path answers it (gateway.idempotency gives it to Litestar's route): once, and the same answer."""
    body = referral_body("utrecht-centrum", PARTNER)
    headers = {"Idempotency-Key": f"fast-{uuid.uuid4()}"}
    async with gateway.client(_token_for(gateway)) as api:
        first = await api.post("/api/v1/referrals", json=body, headers=headers)
        again = await api.post("/api/v1/referrals", json=body, headers=headers)
        other = await api.post("/api/v1/referrals", json={**body, "reason": "another"}, headers=headers)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["etag"] == first.headers["etag"] == '"1"'
    assert other.status_code == 422 and other.json()["type"] == "urn:partnernet:problem:idempotency-key-reused"
    calls = [call for call in gateway.stubs.calls if call[0] == referral_ops.SUBMIT_REFERRAL.subject]
    assert len(calls) == 1, "the service asked once"
