"""The one optimistic version check every service uses (shared/versions.py)."""

from __future__ import annotations

import msgspec
import pytest

from shared.versions import is_stale, version_conflict


class PartnerSeen(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    version: int


@pytest.mark.parametrize(
    ("expected", "current", "stale"), [(None, 3, False), (3, 3, False), (2, 3, True), (4, 3, True)]
)
def test_only_another_version_than_the_current_one_is_stale(expected: int | None, current: int, stale: bool) -> None:
    assert is_stale(expected, current) is stale


def test_the_conflict_names_both_versions_and_carries_the_current_state() -> None:
    conflict = version_conflict("partner 7", 2, PartnerSeen(name="UWV", version=3))

    assert conflict.status == 409
    assert conflict.detail == "partner 7 is at version 3, not 2: read it again and retry"
    assert conflict.extra == {"expected_version": 2, "current": {"name": "UWV", "version": 3}}
