"""The AsyncAPI 3.0 document of every integration event and of the partners' feeds, made from the catalogue.

Each event type in `shared.contracts` is a channel `events.<service>.<type>.v<n>.{municipality}.{library}`
carrying a CloudEvents 1.0 envelope whose `data` is the event's JSON Schema (msgspec's, as frozen by
tests/contracts). Served as JSON at `/asyncapi.json` and as a plain HTML page at `/asyncapi` (no CDN; the
gateway's one template setup, gateway/docs_templates/asyncapi.html).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import msgspec
from litestar import Response, get

from gateway.templates import Page
from shared.contracts import EVENT_TYPE_PREFIX, load_catalogue
from shared.contracts.partners.api.feeds import FeedEntryView

ASYNCAPI_VERSION = "3.0.0"
# The subject on which the partners service delivers a partner's own feed (issue 3); partners' NATS
# credentials allow this subject only.
PARTNER_FEED_ADDRESS = "feeds.{partner}"


def any_value(kind: type[Any]) -> dict[str, Any]:
    """`object` (free-form JSON, e.g. a feed entry's `data`) is any value."""
    if kind is object:
        return {"description": "any JSON value"}
    raise NotImplementedError(kind)


def channel_id(qualified_type: str) -> str:
    return qualified_type.removeprefix(EVENT_TYPE_PREFIX).replace(".", "-")


def message_id(cls: type[Any]) -> str:
    return f"{cls.__name__}V{cls.version}"


def envelope_schema(qualified_type: str, data_ref: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["id", "source", "type", "time", "subject", "data", "specversion"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "stable event id: de-duplicate on it"},
            "source": {"type": "string", "description": "the producing service, e.g. /partnernet/referrals"},
            "type": {"type": "string", "const": qualified_type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "the tenant: <municipality>/<library>"},
            "specversion": {"type": "string", "const": "1.0"},
            "datacontenttype": {"type": "string", "const": "application/json"},
            "municipality": {"type": ["string", "null"]},
            "library": {"type": ["string", "null"]},
            "data": {"$ref": data_ref},
        },
    }


TENANT_PARAMETERS = {
    "municipality": {"description": "the municipality's slug (`_` when none)"},
    "library": {"description": "the library's slug (`_` for events of the municipality as a whole)"},
}


@cache
def asyncapi_document() -> dict[str, Any]:
    catalogue = load_catalogue()
    classes = [catalogue[name] for name in sorted(catalogue)]
    _, components = msgspec.json.schema_components(
        [*classes, FeedEntryView], schema_hook=any_value, ref_template="#/components/schemas/{name}"
    )
    schemas: dict[str, Any] = dict(components)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for qualified in sorted(catalogue):
        cls = catalogue[qualified]
        short = qualified.removeprefix(EVENT_TYPE_PREFIX)
        cid, mid = channel_id(qualified), message_id(cls)
        summary = (cls.__doc__ or "").strip() or f"{cls.type} (version {cls.version})"
        envelope_name = f"{mid}Envelope"
        schemas[envelope_name] = envelope_schema(qualified, f"#/components/schemas/{cls.__name__}", summary)
        messages[mid] = {
            "name": qualified,
            "title": f"{cls.type} v{cls.version}",
            "summary": summary,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{envelope_name}"},
            "headers": {
                "type": "object",
                "properties": {
                    "Nats-Msg-Id": {"type": "string", "description": "the event id (JetStream de-duplication)"},
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                },
            },
        }
        channels[cid] = {
            "address": f"events.{cls.service}.{short}.{{municipality}}.{{library}}",
            "title": qualified,
            "description": f"Published by the {cls.service} service on its stream EVENTS_{cls.service.upper()}.",
            "parameters": TENANT_PARAMETERS,
            "messages": {mid: {"$ref": f"#/components/messages/{mid}"}},
        }
        operations[f"receive-{cid}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": f"Subscribe to {cls.type} v{cls.version}",
            "messages": [{"$ref": f"#/channels/{cid}/messages/{mid}"}],
        }
    messages["PartnerFeedEntry"] = {
        "name": "partner-feed-entry",
        "title": "An entry of a partner's feed",
        "summary": (
            "What one partner may see of an event that concerns it: no personal data, the participant as a "
            "pseudonym. `position` only grows: resume after the last one seen (HTTP `after=`, SSE Last-Event-ID)."
        ),
        "contentType": "application/json",
        "payload": {"$ref": "#/components/schemas/FeedEntryView"},
    }
    channels["partner-feed"] = {
        "address": PARTNER_FEED_ADDRESS,
        "title": "A partner's own feed",
        "description": (
            "Each partner's feed on NATS: JetStream stream PARTNER_FEEDS, the partner's durable consumer "
            "`feed-{partner}`, with credentials that can read this subject and consumer only. The same "
            "entries are at GET /api/v1/partners/{partner}/feed, live as server-sent events at "
            "GET /api/v1/partners/{partner}/feed/live, and as signed CloudEvents webhooks where subscribed."
        ),
        "parameters": {"partner": {"description": "the partner's id"}},
        "messages": {"PartnerFeedEntry": {"$ref": "#/components/messages/PartnerFeedEntry"}},
    }
    operations["receive-partner-feed"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/partner-feed"},
        "summary": "A partner follows its own feed",
        "messages": [{"$ref": "#/channels/partner-feed/messages/PartnerFeedEntry"}],
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "partnernet integration events and partner feeds",
            "version": "1.0.0",
            "description": (
                "Integration events are CloudEvents 1.0 (structured JSON) on NATS JetStream, one stream per service; "
                "subjects name the service, the event type with its version and the tenant, so wildcards and NATS "
                "permissions scope by municipality and library. Event types are frozen: a change adds optional "
                "fields or publishes a new version beside the old one."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "the platform's NATS (JetStream); ask the operator for the address and credentials",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


@get(
    "/asyncapi.json",
    summary="AsyncAPI 3.0 document of the events and partner feeds",
    tags=["docs"],
    sync_to_thread=False,
)
def asyncapi_json() -> dict[str, Any]:
    return asyncapi_document()


@get(
    "/asyncapi",
    summary="The AsyncAPI document as a page",
    tags=["docs"],
    media_type="text/html",
    include_in_schema=False,
    sync_to_thread=False,
)
def asyncapi_page() -> Response[Any]:
    return Page("docs/asyncapi.html", page_context(asyncapi_document())).response()


def page_context(document: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of the document: each channel, and each of its messages with the envelope's schema and
    the schema of its `data`."""

    def component(ref: str) -> dict[str, Any]:
        kind, name = ref.split("/")[-2:]
        found: dict[str, Any] = document["components"][kind][name]
        return found

    channels = []
    for cid, channel in document["channels"].items():
        messages = []
        for ref in channel["messages"].values():
            message = component(ref["$ref"])
            schema = component(message["payload"]["$ref"])
            shown = {"envelope": schema}
            data_ref = schema.get("properties", {}).get("data", {}).get("$ref")
            if data_ref:
                shown["data"] = component(data_ref)
            summary = message.get("summary", "")
            messages.append({"title": message["title"], "summary": summary, "schemas": json.dumps(shown, indent=2)})
        title, description = channel.get("title", cid), channel.get("description", "")
        channels.append(
            {"id": cid, "title": title, "address": channel["address"], "description": description, "messages": messages}
        )
    return {"info": document["info"], "channels": channels}
