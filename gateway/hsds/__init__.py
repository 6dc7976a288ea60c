"""The network as open data (issue 22): a municipality's libraries, the partners that agreed to publish, their
locations and the course offer as an Open Referral HSDS 3.2 API at `/m/<municipality>/hsds/` and as HSDS's
tabular data package (`/m/<municipality>/hsds/datapackage.zip`), for the municipality's social map and other
referral systems to import. No sign-in; the gateway's per-address rate limit applies as to every request.

The HSDS API's endpoints: `/` (version, profile, the API's OpenAPI), `/organizations`, `/services`,
`/service_at_locations` and `/locations` as pages (`page`, `per_page`; HSDS's total_items, total_pages,
page_number, size, first_page, last_page, empty, contents) of one-to-one fields, each `/{id}` fully nested;
filters `organization_id`, `search` and (services) `modified_after`.
gateway/hsds/network.py says how partnernet maps onto HSDS and what is published.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from gateway.calendar.views import RESIDENT
from gateway.hsds import dataset
from gateway.hsds.network import HSDS_VERSION, PROFILE, SCHEMA_BASE, Network, build, flat
from shared.clock import SystemClock
from shared.contracts.courses.api import operations as course_ops
from shared.contracts.courses.api.public import PublicCalendar, PublicCalendarView
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.open_data import GetOpenData
from shared.errors import InvalidInput, NotFound
from shared.rpc import RpcClient

DEFAULT_PER_PAGE = 50
MOST_PER_PAGE = 200
CACHE = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}  # open data: any site may read
LISTS = {
    "organizations": "organizations",
    "services": "services",
    "service_at_locations": "service_at_locations",
    "locations": "locations",
}


async def network_of(request: Request[Any, Any, Any], rpc: RpcClient, municipality: str) -> Network:
    try:
        query = msgspec.convert({"municipality": municipality}, GetOpenData)
        calendar_query = msgspec.convert({"municipality": municipality}, PublicCalendar)
    except msgspec.ValidationError:  # not even a municipality's slug
        raise NotFound(f"municipality {municipality} not found") from None

    async def courses() -> PublicCalendarView | None:
        try:
            return await rpc.call(course_ops.PUBLIC_CALENDAR, RESIDENT, calendar_query)
        except NotFound:
            return None  # the courses service knows no library of it yet: no courses

    asked_courses = asyncio.create_task(courses())  # both services at once
    try:
        partners = await rpc.call(partner_ops.OPEN_DATA, RESIDENT, query)
    except BaseException:
        asked_courses.cancel()
        raise
    return build(partners, await asked_courses, str(request.base_url).rstrip("/"))


def _number(request: Request[Any, Any, Any], name: str, default: int, most: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise InvalidInput(f"{name} must be a whole number from 1 to {most}")
    return int(text)


def page_of(request: Request[Any, Any, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    per_page = _number(request, "per_page", DEFAULT_PER_PAGE, MOST_PER_PAGE)
    page = _number(request, "page", 1, 1_000_000)
    total_pages = max(1, math.ceil(len(records) / per_page))
    contents = [flat(r) for r in records[(page - 1) * per_page : page * per_page]]
    return {
        "total_items": len(records),
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def _json(content: Any) -> Response[Any]:
    return Response(content, media_type="application/json", headers=CACHE)


def _filtered(request: Request[Any, Any, Any], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    organization = request.query_params.get("organization_id")
    if organization:
        records = [r for r in records if r.get("organization_id") == organization]
    search = (request.query_params.get("search") or "").strip().casefold()
    if search:
        records = [r for r in records if search in f"{r.get('name', '')} {r.get('description', '')}".casefold()]
    modified_after = request.query_params.get("modified_after")
    if modified_after:
        # HSDS: services changed on or after this moment, for a system that imports only what changed.
        try:
            since = datetime.fromisoformat(modified_after.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("modified_after must be a date and time (ISO 8601)") from None
        if since.tzinfo is None:
            raise InvalidInput("modified_after must name its offset from UTC (Z or +01:00)")
        records = [r for r in records if "last_modified" in r and datetime.fromisoformat(r["last_modified"]) >= since]
    return records


class OpenDataController(Controller):
    """Public and read-only. Not part of partnernet's API document: it follows the HSDS API's own
    (`openapi_url` at the root)."""

    path = "/m/{municipality:str}/hsds"
    include_in_schema = False

    @get("/", exclude_from_auth=True, summary="HSDS API root: the HSDS version and profile")
    async def root(
        self, request: Request[Any, Any, Any], municipality: FromPath[str], rpc: NamedDependency[RpcClient]
    ) -> Response[Any]:
        await network_of(request, rpc, municipality)  # an unknown municipality is not found here either
        return _json(
            {
                "version": HSDS_VERSION,
                "profile": PROFILE,
                "openapi_url": SCHEMA_BASE + "openapi.json",
                "dataset_url": f"{str(request.base_url).rstrip('/')}/m/{municipality}/hsds/datapackage.zip",
            }
        )

    @get("/{kind:str}", exclude_from_auth=True, summary="A page of HSDS records")
    async def listing(
        self,
        request: Request[Any, Any, Any],
        municipality: FromPath[str],
        kind: FromPath[str],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        if kind == "datapackage.zip":
            return await self._package(request, rpc, municipality)
        if kind not in LISTS:
            raise NotFound(f"no HSDS endpoint {kind}")
        network = await network_of(request, rpc, municipality)
        return _json(page_of(request, _filtered(request, getattr(network, LISTS[kind]))))

    @get("/{kind:str}/{record_id:str}", exclude_from_auth=True, summary="One fully nested HSDS record")
    async def record(
        self,
        request: Request[Any, Any, Any],
        municipality: FromPath[str],
        kind: FromPath[str],
        record_id: FromPath[str],
        rpc: NamedDependency[RpcClient],
    ) -> Response[Any]:
        if kind not in LISTS:
            raise NotFound(f"no HSDS endpoint {kind}")
        network = await network_of(request, rpc, municipality)
        found = network.find(LISTS[kind], record_id)
        if found is None:
            raise NotFound(f"{kind} {record_id} is not published here")
        return _json(found)

    async def _package(self, request: Request[Any, Any, Any], rpc: RpcClient, municipality: str) -> Response[bytes]:
        network = await network_of(request, rpc, municipality)
        return Response(
            dataset.package(network, network.generated_at or SystemClock().now()),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{municipality}-hsds.zip"',
                **CACHE,
            },
        )


OPEN_DATA_CONTROLLERS = [OpenDataController]
