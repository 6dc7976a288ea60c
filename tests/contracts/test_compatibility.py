"""`incompatible_changes` itself: which schema changes break a consumer of an event, and which do not."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import pytest

from tests.contracts.compatibility import incompatible_changes


def obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required is not None:
        schema["required"] = required
    return schema


def with_defs(root: str, **defs: dict[str, Any]) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{root}", "$defs": defs}


STRING = {"type": "string"}
UUID_STRING = {"type": "string", "format": "uuid"}
NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
KIND = {"title": "Kind", "enum": ["a", "b", "c"]}

BASE = obj({"id": UUID_STRING, "name": STRING}, ["id", "name"])

BREAKING = [
    pytest.param(BASE, obj({"id": UUID_STRING}, ["id"]), "name: property removed", id="removed-field"),
    pytest.param(
        BASE, obj({"id": UUID_STRING, "name": {"type": "integer"}}, ["id", "name"]), "name", id="type-changed"
    ),
    pytest.param(
        BASE,
        obj({"id": UUID_STRING, "name": STRING, "age": {"type": "integer"}}, ["id", "name", "age"]),
        "age: new required property",
        id="new-required-field",
    ),
    pytest.param(
        with_defs("E", E=obj({"kind": {"$ref": "#/$defs/Kind"}}, ["kind"]), Kind=KIND),
        with_defs("E", E=obj({"kind": {"$ref": "#/$defs/Kind"}}, ["kind"]), Kind={**KIND, "enum": ["a", "c"]}),
        "kind: enum values removed: 'b'",
        id="enum-value-removed",
    ),
    pytest.param(
        BASE, obj({"id": UUID_STRING, "name": STRING}, ["id"]), "name: required property became optional", id="optional"
    ),
    pytest.param(
        obj({"id": UUID_STRING, "note": NULLABLE_STRING}, ["id"]),
        obj({"id": UUID_STRING, "note": NULLABLE_STRING}, ["id", "note"]),
        "note: optional property became required",
        id="became-required",
    ),
    pytest.param(
        BASE, obj({"id": STRING, "name": STRING}, ["id", "name"]), "id: format 'uuid' removed", id="format-removed"
    ),
    pytest.param(
        BASE,
        obj({"id": UUID_STRING, "name": {"type": "string", "pattern": "^[a-z]+$"}}, ["id", "name"]),
        "name: pattern '^[a-z]+$' added",
        id="pattern-added",
    ),
    pytest.param(
        obj({"level": {"type": "string", "maxLength": 20}}, []),
        obj({"level": {"type": "string", "maxLength": 10}}, []),
        "level: maxLength changed from 20 to 10",
        id="max-length-narrowed",
    ),
    pytest.param(
        BASE,
        obj({"id": UUID_STRING, "name": NULLABLE_STRING}, ["id", "name"]),
        "name: type changed, now also a null",
        id="became-nullable",
    ),
    pytest.param(
        obj({"note": NULLABLE_STRING}, []),
        obj({"note": STRING}, []),
        "note: type narrowed, no longer a null",
        id="null",
    ),
    pytest.param(
        with_defs("E", E=obj({"needs": {"type": "array", "items": {"$ref": "#/$defs/Need"}}}, ["needs"]), Need=BASE),
        with_defs(
            "E",
            E=obj({"needs": {"type": "array", "items": {"$ref": "#/$defs/Need"}}}, ["needs"]),
            Need=obj({"id": UUID_STRING}, ["id"]),
        ),
        "needs[].name: property removed",
        id="nested-field-removed-behind-ref",
    ),
    pytest.param(
        obj({"tags": {"type": "array", "items": STRING}}, ["tags"]),
        obj({"tags": STRING}, ["tags"]),
        "tags: type narrowed, no longer a array",
        id="array-became-string",
    ),
    pytest.param(
        obj({"extra": {"type": "object", "additionalProperties": STRING}}, ["extra"]),
        obj({"extra": {"type": "object", "additionalProperties": {"type": "integer"}}}, ["extra"]),
        "extra{*}",
        id="dict-values-changed",
    ),
    pytest.param(BASE, {**BASE, "additionalProperties": False}, "additionalProperties", id="closed-object"),
]

COMPATIBLE = [
    pytest.param(BASE, BASE, id="unchanged"),
    pytest.param(BASE, obj({"id": UUID_STRING, "name": STRING, "note": NULLABLE_STRING}, ["id", "name"]), id="new-opt"),
    pytest.param(
        with_defs("E", E=obj({"kind": {"$ref": "#/$defs/Kind"}}, ["kind"]), Kind=KIND),
        with_defs(
            "E", E=obj({"kind": {"$ref": "#/$defs/Kind"}}, ["kind"]), Kind={**KIND, "enum": ["a", "b", "c", "d"]}
        ),
        id="enum-value-added",
    ),
    pytest.param(
        with_defs("E", E=BASE),
        with_defs("Event", Event={**BASE, "title": "Event", "description": "renamed and documented"}),
        id="definition-renamed-and-annotated",
    ),
    pytest.param(
        obj({"id": UUID_STRING, "name": STRING}, ["id", "name"]),
        obj({"name": STRING, "id": UUID_STRING}, ["name", "id"]),
        id="properties-reordered",
    ),
    pytest.param(obj({"note": NULLABLE_STRING}, []), obj({"note": {**NULLABLE_STRING, "default": "-"}}, []), id="dflt"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BREAKING)
def test_breaking_change_is_reported(old: dict[str, Any], new: dict[str, Any], expected: str) -> None:
    problems = incompatible_changes(old, new)

    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(("old", "new"), COMPATIBLE)
def test_compatible_change_is_not_reported(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert incompatible_changes(old, new) == []


def test_each_breaking_change_is_reported_once_and_unrelated_fields_stay_quiet() -> None:
    old = obj({"id": UUID_STRING, "name": STRING, "city": STRING}, ["id", "name", "city"])
    new = obj({"id": UUID_STRING, "name": {"type": "integer"}}, ["id", "name"])

    problems = incompatible_changes(old, new)

    assert sorted(problems) == [
        "city: property removed",
        "name: type changed, now also a integer",
        "name: type narrowed, no longer a string",
    ]


class Need(msgspec.Struct, kw_only=True):
    area: Literal["language", "digital"]
    level: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class Referral(msgspec.Struct, kw_only=True):
    needs: list[Need]


class Need2(msgspec.Struct, kw_only=True):
    area: Literal["language", "digital", "numeracy"]
    level: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    note: str | None = None


class Referral2(msgspec.Struct, kw_only=True):
    needs: list[Need2]
    submitted_by: str | None = None


class Need3(msgspec.Struct, kw_only=True):
    area: Literal["language"]
    level: str


class Referral3(msgspec.Struct, kw_only=True):
    needs: list[Need3]


def test_schemas_msgspec_generates_for_an_evolved_struct_are_compared_through_their_refs() -> None:
    old = msgspec.json.schema(Referral)

    assert incompatible_changes(old, msgspec.json.schema(Referral2)) == []
    assert sorted(incompatible_changes(old, msgspec.json.schema(Referral3))) == [
        "needs[].area: enum values removed: 'digital'",
        "needs[].level: maxLength 20 removed",
        "needs[].level: optional property became required",
        "needs[].level: type narrowed, no longer a null",
    ]


def test_recursive_definitions_are_compared_without_looping_forever() -> None:
    node = obj({"name": STRING, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, ["name"])
    changed = obj({"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, [])

    assert incompatible_changes(with_defs("Node", Node=node), with_defs("Node", Node=node)) == []
    assert "name: property removed" in incompatible_changes(
        with_defs("Node", Node=node), with_defs("Node", Node=changed)
    )


def test_a_reference_outside_defs_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match="only references into"):
        incompatible_changes({"$ref": "https://example.org/schema.json"}, BASE)
