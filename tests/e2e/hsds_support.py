"""The HSDS 3.2 schemas vendored in tests/data/hsds, and checks of records against them: the open data's tests
(tests/e2e/test_open_data.py over HTTP, tests/gateway/test_hsds.py without servers) share them."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HSDS = Path(__file__).parents[1] / "data" / "hsds"
TABLES = ("organization", "service", "location", "address", "phone", "schedule", "service_at_location")
SCHEMAS = {name: json.loads((HSDS / f"{name}.json").read_text()) for name in TABLES}
# Each schema under its own $id, so that `"$ref": "phone.json"` resolves beside it; a table not vendored
# (attribute, contact, language …) stays unresolvable and fails the validation of any record that uses it.
REGISTRY: Registry = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)) for schema in SCHEMAS.values()
)
# A Dutch address has no province; HSDS requires the field, so it is there and empty (gateway/hsds/network.py).
EMPTY_ALLOWED = {("address", "state_province")}
PAGE = json.loads((HSDS / "page.json").read_text())


def validator(table: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[table], registry=REGISTRY, format_checker=FormatChecker())


def only_declared_fields(record: dict[str, Any], table: str) -> None:
    """Every field is one HSDS declares for the table (HSDS allows others; partnernet invents none), and so for
    each nested record, down to the last."""
    properties = SCHEMAS[table]["properties"]
    for key, value in record.items():
        assert key in properties, f"{table}.{key} is not an HSDS field"
        ref = properties[key].get("$ref") or properties[key].get("items", {}).get("$ref")
        if ref:
            nested = ref.removesuffix(".json")
            for item in value if isinstance(value, list) else [value]:
                only_declared_fields(item, nested)


def valid(record: dict[str, Any], table: str) -> dict[str, Any]:
    errors = sorted(validator(table).iter_errors(record), key=lambda e: list(e.path))
    assert not errors, f"{table} {record.get('id')}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)
    only_declared_fields(record, table)
    return record


def valid_page(body: dict[str, Any], table: str) -> dict[str, Any]:
    errors = list(Draft202012Validator(PAGE).iter_errors(body))
    assert not errors, [e.message for e in errors]
    for record in body["contents"]:
        valid(record, table)
        assert not any(isinstance(v, list | dict) for v in record.values()), "a list gives one-to-one fields"
    return body


def read_package(content: bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], str]:
    """An HSDS tabular data package, checked: its datapackage.json names every vendored table and each file as
    HSDS names it, with one-to-one fields HSDS declares (of HSDS's type); every CSV row, typed back, is a valid
    HSDS record with HSDS's tabular_required fields; ids are unique and foreign keys resolve. Gives the
    descriptor, the rows of each table, and all the text (to look for what must not be there)."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    package = json.loads(archive.read("datapackage.json"))
    assert package["profile"] == "tabular-data-package" and package["hsds_version"] == "3.2"
    assert sorted(r["name"] for r in package["resources"]) == sorted(TABLES)
    tables: dict[str, list[dict[str, Any]]] = {}
    for resource in package["resources"]:
        schema = SCHEMAS[resource["name"]]
        assert resource["path"] == schema["path"], "each table's file is named as HSDS names it"
        fields = resource["schema"]["fields"]
        reader = csv.DictReader(io.StringIO(archive.read(resource["path"]).decode("utf-8")))
        assert reader.fieldnames == [f["name"] for f in fields]
        numbers = set()
        for field in fields:
            declared = schema["properties"][field["name"]]
            assert declared["type"] in ("string", "number"), f"{resource['name']}.{field['name']} is one-to-one"
            expected = declared.get("datapackage_type", declared["type"])
            assert field["type"] in (expected, "string"), (resource["name"], field)
            if declared["type"] == "number":
                numbers.add(field["name"])
        required = set(schema["required"]) | set(schema.get("tabular_required", []))
        rows = []
        for row in reader:
            record = {k: (float(v) if k in numbers else v) for k, v in row.items() if v != ""}
            record.update({k: "" for (table, k) in EMPTY_ALLOWED if table == resource["name"] and row.get(k) == ""})
            errors = [e.message for e in validator(resource["name"]).iter_errors(record)]
            assert not errors, (resource["name"], record, errors)
            assert required <= set(record), (resource["name"], required - set(record))
            rows.append(record)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), f"{resource['name']}: an id twice"
        tables[resource["name"]] = rows
    for resource in package["resources"]:
        for key in resource["schema"]["foreignKeys"]:
            targets = {r["id"] for r in tables[key["reference"]["resource"]]}
            for row in tables[resource["name"]]:
                if row.get(key["fields"]):
                    assert row[key["fields"]] in targets, (resource["name"], key, row)
    whole = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8")
    return package, tables, whole
