"""The event schema freeze: every event type's JSON Schema against its committed snapshot.

A snapshot lives in tests/contracts/snapshots/<qualified type>.json. To create the snapshot of a new
event type, or to record a compatible change (a new optional property, a new enum value), run

    PARTNERNET_UPDATE_SNAPSHOTS=1 uv run pytest tests/contracts

review the files it writes, and commit them. An incompatible change is never written: publish a new
version of the type beside the old one instead.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import msgspec
import pytest

from shared.contracts import EVENT_TYPE_PREFIX, EventData, load_catalogue
from tests.contracts.compatibility import incompatible_changes

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_ENV = "PARTNERNET_UPDATE_SNAPSHOTS"
UPDATE_COMMAND = f"{UPDATE_ENV}=1 uv run pytest tests/contracts"
CATALOGUE = load_catalogue()

# Past participles that do not end in -ed; add one here when an event needs it.
IRREGULAR_PAST = frozenset(
    {"withdrawn", "held", "sent", "given", "taken", "begun", "written", "paid", "met", "left", "overdue"}
)
TYPE_SHAPE = re.compile(r"^(?P<resource>[a-z]+(?:_[a-z]+)*)\.(?P<verb>[a-z]+(?:_[a-z]+)*)$")


def type_name_problem(name: str) -> str | None:
    """Why `name` is not `<resource>.<past tense verb>`, or None if it is."""
    match = TYPE_SHAPE.match(name)
    if not match:
        return f"{name!r} is not `<resource>.<past tense verb>` in lower case, e.g. `referral.submitted`"
    verb = match["verb"].split("_")[-1]
    if not (verb.endswith("ed") or verb in IRREGULAR_PAST):
        return f"{verb!r} in {name!r} is not a past tense verb"
    return None


def updating() -> bool:
    return os.environ.get(UPDATE_ENV, "").lower() in {"1", "true", "yes"}


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_snapshot(qualified: str, schema: dict[str, Any], directory: Path, *, update: bool) -> str:
    """Compare `schema` with the snapshot of `qualified`; write it only where allowed. Says what it did."""
    path = directory / f"{qualified}.json"
    if not path.exists():
        if not update:
            raise AssertionError(
                f"event type {qualified} has no schema snapshot ({path}). "
                f"Create it with `{UPDATE_COMMAND}`, review it and commit it."
            )
        path.write_text(dump(schema), encoding="utf-8")
        return "created"
    frozen = json.loads(path.read_text(encoding="utf-8"))
    problems = incompatible_changes(frozen, schema)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise AssertionError(
            f"event type {qualified} changed incompatibly with its frozen schema {path.name}:\n{listing}\n"
            "A published event type only gains optional properties and enum values. Publish a new version "
            "beside it instead; the snapshot is not overwritten for an incompatible change."
        )
    if frozen != schema:
        if not update:
            raise AssertionError(
                f"event type {qualified} changed compatibly but its snapshot {path.name} does not record it yet; "
                f"record it with `{UPDATE_COMMAND}` and commit the snapshot."
            )
        path.write_text(dump(schema), encoding="utf-8")
        return "updated"
    return "unchanged"


# --- the catalogue against the snapshots --------------------------------------------------------


@pytest.mark.parametrize("qualified", sorted(CATALOGUE))
def test_event_type_is_compatible_with_its_snapshot(qualified: str) -> None:
    schema = msgspec.json.schema(CATALOGUE[qualified])

    outcome = check_snapshot(qualified, schema, SNAPSHOTS, update=updating())

    assert outcome in {"created", "updated", "unchanged"}
    assert json.loads((SNAPSHOTS / f"{qualified}.json").read_text(encoding="utf-8")) == schema


def test_every_snapshot_belongs_to_an_event_type_of_the_catalogue() -> None:
    orphans = sorted(path.stem for path in SNAPSHOTS.glob("*.json") if path.stem not in CATALOGUE)

    assert orphans == [], (
        f"event types {orphans} have a frozen schema but left the catalogue; consumers may still need them"
    )


def test_snapshots_are_stored_in_canonical_form() -> None:
    for path in SNAPSHOTS.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text == dump(json.loads(text)), f"{path.name} is not in canonical form; regenerate it"


# --- the snapshot mechanism, on a type that is not in the catalogue -----------------------------


class Unfrozen(EventData, frozen=True, kw_only=True):
    """Deliberately not registered: it must not leak into the catalogue."""

    service: ClassVar[str] = "referrals"
    type: ClassVar[str] = "referral.unfrozen"
    referral_id: UUID
    library: str


class UnfrozenWithNote(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "referrals"
    type: ClassVar[str] = "referral.unfrozen"
    referral_id: UUID
    library: str
    note: str | None = None


class UnfrozenWithoutLibrary(EventData, frozen=True, kw_only=True):
    service: ClassVar[str] = "referrals"
    type: ClassVar[str] = "referral.unfrozen"
    referral_id: UUID


QUALIFIED = Unfrozen.qualified_type()


def test_the_test_type_is_not_in_the_catalogue() -> None:
    assert QUALIFIED not in CATALOGUE


def test_type_without_snapshot_fails_telling_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=f"no schema snapshot.*{UPDATE_ENV}=1"):
        check_snapshot(QUALIFIED, msgspec.json.schema(Unfrozen), tmp_path, update=False)

    assert list(tmp_path.iterdir()) == []


def test_update_mode_writes_a_missing_snapshot(tmp_path: Path) -> None:
    schema = msgspec.json.schema(Unfrozen)

    assert check_snapshot(QUALIFIED, schema, tmp_path, update=True) == "created"

    assert json.loads((tmp_path / f"{QUALIFIED}.json").read_text(encoding="utf-8")) == schema
    assert check_snapshot(QUALIFIED, schema, tmp_path, update=False) == "unchanged"


def test_incompatible_change_fails_and_update_mode_does_not_overwrite_the_snapshot(tmp_path: Path) -> None:
    check_snapshot(QUALIFIED, msgspec.json.schema(Unfrozen), tmp_path, update=True)
    before = (tmp_path / f"{QUALIFIED}.json").read_text(encoding="utf-8")

    with pytest.raises(AssertionError, match=r"incompatibly(.|\n)*library: property removed"):
        check_snapshot(QUALIFIED, msgspec.json.schema(UnfrozenWithoutLibrary), tmp_path, update=True)

    assert (tmp_path / f"{QUALIFIED}.json").read_text(encoding="utf-8") == before


def test_unrecorded_compatible_change_fails_telling_how_to_record_it(tmp_path: Path) -> None:
    check_snapshot(QUALIFIED, msgspec.json.schema(Unfrozen), tmp_path, update=True)
    before = (tmp_path / f"{QUALIFIED}.json").read_text(encoding="utf-8")

    with pytest.raises(AssertionError, match=f"changed compatibly.*{UPDATE_ENV}=1"):
        check_snapshot(QUALIFIED, msgspec.json.schema(UnfrozenWithNote), tmp_path, update=False)

    assert (tmp_path / f"{QUALIFIED}.json").read_text(encoding="utf-8") == before


def test_update_mode_records_a_compatible_change(tmp_path: Path) -> None:
    check_snapshot(QUALIFIED, msgspec.json.schema(Unfrozen), tmp_path, update=True)
    evolved = msgspec.json.schema(UnfrozenWithNote)

    assert check_snapshot(QUALIFIED, evolved, tmp_path, update=True) == "updated"

    assert json.loads((tmp_path / f"{QUALIFIED}.json").read_text(encoding="utf-8")) == evolved


# --- names ---------------------------------------------------------------------------------------


def test_catalogue_is_not_empty_and_keys_are_the_qualified_types() -> None:
    assert CATALOGUE
    for key, cls in CATALOGUE.items():
        assert key == cls.qualified_type()
        assert key == f"{EVENT_TYPE_PREFIX}{cls.type}.v{cls.version}"


@pytest.mark.parametrize("qualified", sorted(CATALOGUE))
def test_event_type_is_named_resource_dot_past_tense_verb(qualified: str) -> None:
    assert type_name_problem(CATALOGUE[qualified].type) is None


@pytest.mark.parametrize("qualified", sorted(CATALOGUE))
def test_event_type_has_a_positive_version_and_lives_in_its_services_contracts(qualified: str) -> None:
    cls = CATALOGUE[qualified]

    assert isinstance(cls.version, int)
    assert cls.version >= 1
    catalogue = f"shared.contracts.{cls.service}.events"
    assert cls.__module__ == catalogue or cls.__module__.startswith(f"{catalogue}."), cls.__module__


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("referral.submitted", True),
        ("partner.registered", True),
        ("referral.intake_planned", True),
        ("referral.withdrawn", True),
        ("Referral.Submitted", False),
        ("referral", False),
        ("referral.submit", False),
        ("referral.submitted.again", False),
        ("referral-submitted", False),
        ("referral.submitted_v2", False),
    ],
)
def test_type_name_rule_accepts_only_resource_dot_past_tense(name: str, valid: bool) -> None:
    assert (type_name_problem(name) is None) is valid
