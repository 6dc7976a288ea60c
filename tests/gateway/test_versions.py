"""ETag from a view's version, If-Match into expected_version, and a stale version as a 409 with the current state."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from gateway.dependencies import add_etag, app_expected_version, parse_if_match, with_expected_version
from gateway.problems import EXCEPTION_HANDLERS
from shared.errors import Conflict, InvalidInput


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    response_days: int
    version: int


class SetPolicy(msgspec.Struct, frozen=True, kw_only=True):
    response_days: int
    expected_version: int | None = None


def policy_app() -> tuple[Litestar, dict[str, Policy]]:
    store = {"policy": Policy(response_days=5, version=1)}

    @get("/policy", sync_to_thread=False)
    def read() -> Policy:
        return store["policy"]

    @put("/policy", sync_to_thread=False)
    def update(data: JSONBody[SetPolicy], expected_version: NamedDependency[int | None]) -> Policy:
        command = with_expected_version(data, expected_version)
        current = store["policy"]
        # What a service does: compare, and answer the current state on a mismatch.
        if command.expected_version is not None and command.expected_version != current.version:
            raise Conflict("the policy changed meanwhile", current=msgspec.to_builtins(current))
        store["policy"] = Policy(response_days=command.response_days, version=current.version + 1)
        return store["policy"]

    app = Litestar(
        route_handlers=[read, update],
        dependencies={"expected_version": Provide(app_expected_version, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        after_request=add_etag,
    )
    return app, store


async def test_two_staff_members_do_not_overwrite_each_other_silently() -> None:
    app, store = policy_app()
    async with AsyncTestClient(app) as client:
        read = await client.get("/policy")
        assert read.headers["etag"] == '"1"'
        first = await client.put("/policy", json={"response_days": 7}, headers={"If-Match": read.headers["etag"]})
        assert first.status_code == 200 and first.headers["etag"] == '"2"'
        second = await client.put("/policy", json={"response_days": 3}, headers={"If-Match": read.headers["etag"]})
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert second.json()["current"] == {"response_days": 7, "version": 2}
    assert second.headers["etag"] == '"2"'
    assert store["policy"].response_days == 7


async def test_without_if_match_the_update_is_unconditional() -> None:
    app, store = policy_app()
    async with AsyncTestClient(app) as client:
        response = await client.put("/policy", json={"response_days": 9})
    assert response.status_code == 200
    assert store["policy"].version == 2


async def test_a_malformed_if_match_is_a_422_problem() -> None:
    app, _ = policy_app()
    async with AsyncTestClient(app) as client:
        response = await client.put("/policy", json={"response_days": 9}, headers={"If-Match": '"abc"'})
    assert response.status_code == 422
    assert response.json()["type"] == "urn:partnernet:problem:invalid-input"


@pytest.mark.parametrize(
    ("header", "version"), [(None, None), ("*", None), ('"3"', 3), ('W/"4"', 4), ("5", 5), (' "6" ', 6)]
)
def test_if_match_forms(header: str | None, version: int | None) -> None:
    assert parse_if_match(header) == version


@pytest.mark.parametrize("header", ['"1", "2"', '"0"', '"-1"', "latest"])
def test_if_match_that_names_no_single_version_is_refused(header: str) -> None:
    with pytest.raises(InvalidInput):
        parse_if_match(header)


def test_if_match_and_a_body_that_disagree_are_refused() -> None:
    with pytest.raises(InvalidInput):
        with_expected_version(SetPolicy(response_days=1, expected_version=2), 3)
    assert with_expected_version(SetPolicy(response_days=1, expected_version=3), 3).expected_version == 3
    assert with_expected_version(SetPolicy(response_days=1), None).expected_version is None


@pytest.mark.parametrize(
    ("body", "version"),
    [
        (b'{"id":"x","version":3,"history":[{"version":2}]}', 3),  # the view's own version, not a nested one
        (b'{"id":"x","history":[{"version":2}]}', None),
        (b'{"version":true}', None),
        (b'{"version":"3"}', None),
        (b"[1,2]", None),
        (b"null", None),
        (b"{not json", None),
    ],
)
def test_a_reply_passed_on_as_json_gives_its_own_version_as_the_etag(body: bytes, version: int | None) -> None:
    from gateway.dependencies import version_of

    assert version_of(body) == version
