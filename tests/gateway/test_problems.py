"""Problem details keep RFC 9457's own members whatever extra fields a service's error carries."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from gateway.problems import COLLIDING_PREFIX, EXCEPTION_HANDLERS, problem
from shared.errors import Conflict, NotFound, PartnernetError
from shared.rpc import RpcReply, encode_error

COLLIDING = {"type": "gone", "title": "Weg", "status": "archived", "detail": "x", "instance": "/elsewhere"}


def test_extra_fields_never_replace_the_rfc_9457_members() -> None:
    response = problem(404, "not-found", "Not found", "course 1 not found", "/api/v1/courses/1", **COLLIDING, code="c")
    body = response.content
    assert response.status_code == 404
    assert {key: body[key] for key in COLLIDING} == {
        "type": "urn:partnernet:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "course 1 not found",
        "instance": "/api/v1/courses/1",
    }
    assert {key: body[COLLIDING_PREFIX + key] for key in COLLIDING} == COLLIDING, "kept, under the prefix"
    assert body["code"] == "c", "an extension member that collides with nothing stays as it is"


def test_a_renamed_field_does_not_overwrite_an_extension_member_of_that_name() -> None:
    body = problem(409, "conflict", "Conflict", "d", "/x", status="stale", error_status="own").content
    assert body["status"] == 409 and body["error_status"] == "own"


@pytest.mark.parametrize(
    "error",
    [
        NotFound("referral 1 not found", status="archived"),
        Conflict("changed meanwhile", detail="the other one", type="version", current={"version": 3}),
        PartnernetError("failed", title="t", instance="i"),
    ],
    ids=["status", "detail-and-type", "title-and-instance"],
)
async def test_a_service_error_with_colliding_fields_is_still_its_own_problem(error: PartnernetError) -> None:
    # What the gateway gets: the error as it crossed NATS, rebuilt the way RpcClient rebuilds it.
    sent = msgspec.json.decode(encode_error(error), type=RpcReply).error
    assert sent is not None
    rebuilt = type(error)(sent.detail, **sent.extra)

    @get("/fails", sync_to_thread=False)
    def fails() -> None:
        raise rebuilt

    async with AsyncTestClient(Litestar([fails], exception_handlers=EXCEPTION_HANDLERS)) as client:
        response = await client.get("/fails")
    assert response.status_code == error.status
    body = response.json()
    assert body["status"] == error.status and body["detail"] == error.detail and body["instance"] == "/fails"
    assert body["type"] == f"urn:partnernet:problem:{error.code}" and body["title"] == error.title
    for key, value in error.extra.items():
        assert body[COLLIDING_PREFIX + key if key in COLLIDING else key] == value
