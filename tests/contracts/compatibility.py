"""Which changes of an event's JSON Schema break a consumer. Pure: schemas in, findings out.

An event type is frozen once published: its events stay in the streams and are replayed, and its
consumers decode it strictly. So the only compatible changes are a new *optional* property and a new
enum value (consumers must tolerate unknown enum values). Everything else that changes what a valid
event looks like is reported, in either direction:

- a property removed, or a required property that became optional (consumers rely on it);
- a new required property, or an optional property that became required (old events lack it);
- a type changed, narrowed or widened (`string` to `integer`, `string` to `string | null`);
- enum values removed;
- a validation keyword added, removed or changed (`format`, `pattern`, `maxLength`, `minimum`, ...).

Annotations (`title`, `description`, `default`, `examples`) do not count, and neither does the name
of a `$defs` entry: `$ref`s are resolved before comparing.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly"}
)
# Keywords the comparison walks into itself; every other keyword is a validation keyword compared by value.
STRUCTURAL = frozenset(
    {
        "$ref",
        "$defs",
        "anyOf",
        "oneOf",
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
    }
)
DEFS_PREFIX = "#/$defs/"


def incompatible_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Describe every change from `old_schema` to `new_schema` that breaks a consumer; empty if none."""
    return _Comparison(old_schema.get("$defs", {}), new_schema.get("$defs", {})).compare(old_schema, new_schema, "")


class _Comparison:
    def __init__(self, old_defs: dict[str, Schema], new_defs: dict[str, Schema]) -> None:
        self.old_defs = old_defs
        self.new_defs = new_defs
        self.in_progress: set[tuple[str | None, str | None]] = set()

    def compare(self, old: Schema, new: Schema, path: str) -> list[str]:
        # A pair of recursive definitions already being compared further up is assumed compatible here.
        refs = (old.get("$ref"), new.get("$ref"))
        if refs != (None, None):
            if refs in self.in_progress:
                return []
            self.in_progress.add(refs)
        try:
            return self._compare_resolved(resolve(old, self.old_defs), resolve(new, self.new_defs), path)
        finally:
            self.in_progress.discard(refs)

    def _compare_resolved(self, old: Schema, new: Schema, path: str) -> list[str]:
        old_branches = branches(old, self.old_defs)
        new_branches = branches(new, self.new_defs)
        problems: list[str] = []
        for kind in old_branches.keys() - new_branches.keys():
            problems.append(f"{where(path)}: type narrowed, no longer {describe(kind)}")
        for kind in new_branches.keys() - old_branches.keys():
            problems.append(f"{where(path)}: type changed, now also {describe(kind)}")
        for kind in sorted(old_branches.keys() & new_branches.keys()):
            problems += self._compare_branch(old_branches[kind], new_branches[kind], path)
        return problems

    def _compare_branch(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems = compare_keywords(old, new, path)
        if "enum" in old:
            removed = [value for value in old["enum"] if value not in new["enum"]]
            if removed:
                problems.append(f"{where(path)}: enum values removed: {', '.join(map(repr, removed))}")
        if old.get("type") == "object":
            problems += self._compare_object(old, new, path)
        if old.get("type") == "array":
            problems += self._compare_array(old, new, path)
        return problems

    def _compare_object(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems: list[str] = []
        old_props: dict[str, Schema] = old.get("properties", {})
        new_props: dict[str, Schema] = new.get("properties", {})
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        for name, old_prop in old_props.items():
            at = join(path, name)
            if name not in new_props:
                problems.append(f"{at}: property removed")
                continue
            if name in old_required and name not in new_required:
                problems.append(f"{at}: required property became optional")
            if name not in old_required and name in new_required:
                problems.append(f"{at}: optional property became required")
            problems += self.compare(old_prop, new_props[name], at)
        for name in new_props.keys() - old_props.keys():
            if name in new_required:
                problems.append(f"{join(path, name)}: new required property")
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            problems += self.compare(old_extra, new_extra, f"{path}{{*}}")
        elif old_extra != new_extra:
            problems.append(f"{where(path)}: additionalProperties changed from {old_extra!r} to {new_extra!r}")
        return problems

    def _compare_array(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems = self.compare(old.get("items", {}), new.get("items", {}), f"{path}[]")
        old_prefix: list[Schema] = old.get("prefixItems", [])
        new_prefix: list[Schema] = new.get("prefixItems", [])
        if len(old_prefix) != len(new_prefix):
            problems.append(f"{where(path)}: tuple length changed from {len(old_prefix)} to {len(new_prefix)}")
        for index, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=False)):
            problems += self.compare(old_item, new_item, f"{path}[{index}]")
        return problems


def resolve(schema: Schema, defs: dict[str, Schema]) -> Schema:
    """Follow `$ref`s into `$defs`; keywords beside a `$ref` are kept."""
    seen: set[str] = set()
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith(DEFS_PREFIX):
            raise ValueError(f"only references into $defs are supported, not {ref!r}")
        if ref in seen:
            raise ValueError(f"{ref!r} refers to itself")
        seen.add(ref)
        name = ref.removeprefix(DEFS_PREFIX)
        if name not in defs:
            raise ValueError(f"{ref!r} is not defined in $defs")
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**defs[name], **siblings}
    return schema


def branches(schema: Schema, defs: dict[str, Schema]) -> dict[str, Schema]:
    """Split a schema into the alternatives it accepts, keyed by their JSON type (`enum` for enums)."""
    found: list[tuple[str, Schema]] = []
    _collect(resolve(schema, defs), defs, found)
    by_kind: dict[str, Schema] = {}
    for kind, branch in found:
        if kind == "enum" and kind in by_kind:  # a union of literals/enums is one enum
            merged = by_kind[kind]["enum"] + [v for v in branch["enum"] if v not in by_kind[kind]["enum"]]
            by_kind[kind] = {**by_kind[kind], "enum": merged}
            continue
        if kind in by_kind:  # e.g. a union of two structs: tell them apart by title
            kind = f"{kind}:{branch.get('title', len(by_kind))}"
        by_kind[kind] = branch
    return by_kind


def _collect(schema: Schema, defs: dict[str, Schema], found: list[tuple[str, Schema]]) -> None:
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", [])
    if alternatives:
        rest = {key: value for key, value in schema.items() if key not in ("anyOf", "oneOf")}
        for alternative in alternatives:
            _collect({**rest, **resolve(alternative, defs)}, defs, found)
        return
    if "const" in schema:
        found.append(("enum", {**{k: v for k, v in schema.items() if k != "const"}, "enum": [schema["const"]]}))
    elif "enum" in schema:
        found.append(("enum", schema))
    elif isinstance(schema.get("type"), list):
        for type_name in schema["type"]:
            found.append((type_name, {**schema, "type": type_name}))
    elif "type" in schema:
        found.append((schema["type"], schema))
    else:
        found.append(("any", schema))


def compare_keywords(old: Schema, new: Schema, path: str) -> list[str]:
    problems: list[str] = []
    for keyword in sorted((old.keys() | new.keys()) - ANNOTATIONS - STRUCTURAL):
        if keyword not in new:
            problems.append(f"{where(path)}: {keyword} {old[keyword]!r} removed")
        elif keyword not in old:
            problems.append(f"{where(path)}: {keyword} {new[keyword]!r} added")
        elif old[keyword] != new[keyword]:
            problems.append(f"{where(path)}: {keyword} changed from {old[keyword]!r} to {new[keyword]!r}")
    return problems


def describe(kind: str) -> str:
    if kind == "any":
        return "any value"
    if kind == "enum":
        return "an enum"
    return f"a {kind.split(':')[0]}" + (f" ({kind.split(':', 1)[1]})" if ":" in kind else "")


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def where(path: str) -> str:
    return path or "(root)"
