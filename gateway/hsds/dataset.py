"""A municipality's open data as HSDS's tabular form: a Frictionless tabular data package (`datapackage.json`
and one CSV file per HSDS table, each table's file name and order as the HSDS 3.2 schema gives them in `path`
and `datapackage_metadata.order`), zipped. Each table's columns are the HSDS table's one-to-one fields; the
nested records of the API become rows that point at their parent (an address's `location_id` …)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from gateway.hsds.network import HSDS_VERSION, SCHEMA_BASE, Network, flat

# (resource name, file, its HSDS schema, columns as (field, Frictionless type), foreign keys), in HSDS's order.
TABLES: list[tuple[str, str, str, list[tuple[str, str]], list[tuple[str, str]]]] = [
    (
        "organization",
        "organizations.csv",
        "organization.json",
        [
            ("id", "string"),
            ("name", "string"),
            ("alternate_name", "string"),
            ("description", "string"),
            ("email", "string"),
            ("website", "string"),
            ("year_incorporated", "number"),
            ("legal_status", "string"),
            ("logo", "string"),
            ("uri", "string"),
            ("parent_organization_id", "string"),
        ],
        [],
    ),
    (
        "service",
        "services.csv",
        "service.json",
        [
            ("id", "string"),
            ("organization_id", "string"),
            ("program_id", "string"),
            ("name", "string"),
            ("alternate_name", "string"),
            ("description", "string"),
            ("url", "string"),
            ("email", "string"),
            ("status", "string"),
            ("interpretation_services", "string"),
            ("application_process", "string"),
            ("fees_description", "string"),
            ("accreditations", "string"),
            ("eligibility_description", "string"),
            ("minimum_age", "number"),
            ("maximum_age", "number"),
            ("assured_date", "date"),
            ("assurer_email", "string"),
            ("alert", "string"),
            ("last_modified", "datetime"),
        ],
        [("organization_id", "organization")],
    ),
    (
        "service_at_location",
        "service_at_location.csv",
        "service_at_location.json",
        [("id", "string"), ("service_id", "string"), ("location_id", "string"), ("description", "string")],
        [("service_id", "service"), ("location_id", "location")],
    ),
    (
        "location",
        "locations.csv",
        "location.json",
        [
            ("id", "string"),
            ("location_type", "string"),
            ("url", "string"),
            ("organization_id", "string"),
            ("name", "string"),
            ("alternate_name", "string"),
            ("description", "string"),
            ("transportation", "string"),
            ("latitude", "number"),
            ("longitude", "number"),
            ("external_identifier", "string"),
            ("external_identifier_type", "string"),
        ],
        [("organization_id", "organization")],
    ),
    (
        "phone",
        "phones.csv",
        "phone.json",
        [
            ("id", "string"),
            ("location_id", "string"),
            ("service_id", "string"),
            ("organization_id", "string"),
            ("contact_id", "string"),
            ("service_at_location_id", "string"),
            ("number", "string"),
            ("extension", "number"),
            ("type", "string"),
            ("description", "string"),
        ],
        [("organization_id", "organization")],
    ),
    (
        "address",
        "addresses.csv",
        "address.json",
        [
            ("id", "string"),
            ("location_id", "string"),
            ("attention", "string"),
            ("address_1", "string"),
            ("address_2", "string"),
            ("city", "string"),
            ("region", "string"),
            ("state_province", "string"),
            ("postal_code", "string"),
            ("country", "string"),
            ("address_type", "string"),
        ],
        [("location_id", "location")],
    ),
    (
        "schedule",
        "schedules.csv",
        "schedule.json",
        [
            ("id", "string"),
            ("service_id", "string"),
            ("location_id", "string"),
            ("service_at_location_id", "string"),
            ("valid_from", "date"),
            ("valid_to", "date"),
            ("dtstart", "date"),
            ("timezone", "number"),
            ("until", "date"),
            ("count", "number"),
            ("wkst", "string"),
            ("freq", "string"),
            ("interval", "number"),
            ("byday", "string"),
            ("byweekno", "string"),
            ("bymonthday", "string"),
            ("byyearday", "string"),
            ("description", "string"),
            ("opens_at", "string"),
            ("closes_at", "string"),
            ("schedule_link", "string"),
            ("attending_type", "string"),
            ("notes", "string"),
        ],
        [("service_id", "service"), ("location_id", "location"), ("service_at_location_id", "service_at_location")],
    ),
]


def rows(network: Network) -> dict[str, list[dict[str, Any]]]:
    """Every record once, in the table it belongs to."""
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in TABLES}
    for organization in network.organizations:
        tables["organization"].append(flat(organization))
        tables["phone"].extend(organization.get("phones", []))
    for location in network.locations:
        tables["location"].append(flat(location))
        tables["address"].extend(location.get("addresses", []))
        tables["phone"].extend(location.get("phones", []))
    for service in network.services:
        tables["service"].append(flat(service))
    for at_location in network.service_at_locations:
        tables["service_at_location"].append(flat(at_location))
        tables["schedule"].extend(flat(s) for s in at_location.get("schedules", []))
    return tables


def descriptor(network: Network, created: datetime) -> dict[str, Any]:
    return {
        "profile": "tabular-data-package",
        "name": f"partnernet-{network.municipality}-hsds",
        "title": f"Basisvaardigheden-netwerk {network.municipality_name}: bibliotheken, partners en cursussen (HSDS)",
        "description": "Open Referral Human Services Data Specification (HSDS) "
        f"{HSDS_VERSION}, tabular form. Only what each partner agreed to publish.",
        "created": created.isoformat(),
        "hsds_version": HSDS_VERSION,
        "resources": [
            {
                "name": name,
                "path": path,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "hsds_schema": SCHEMA_BASE + schema,
                "schema": {
                    "fields": [{"name": column, "type": kind} for column, kind in columns],
                    "primaryKey": "id",
                    "foreignKeys": [
                        {"fields": column, "reference": {"resource": target, "fields": "id"}} for column, target in keys
                    ],
                },
            }
            for name, path, schema, columns, keys in TABLES
        ],
    }


def _csv(columns: list[tuple[str, str]], records: list[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column for column, _ in columns])
    for record in records:
        writer.writerow(["" if record.get(column) is None else record[column] for column, _ in columns])
    yield buffer.getvalue()


def package(network: Network, created: datetime) -> bytes:
    tables = rows(network)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", json.dumps(descriptor(network, created), ensure_ascii=False, indent=2))
        for name, path, _, columns, _ in TABLES:
            archive.writestr(path, "".join(_csv(columns, tables[name])))
    return out.getvalue()
