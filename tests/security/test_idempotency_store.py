"""Finding 5: the idempotency store keeps no secrets or personal data in clear, yet a retry still gets the
first answer, secrets included (they are shown once, and a lost answer must be retrievable by its retry)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from gateway.idempotency import BUCKET
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.waiting import PATIENCE_SECONDS

PERSON = {"name": "Yasmina Okafor-Dekker", "birth_date": "1979-11-23", "phone": "0687654321"}
EMAIL = "yasmina.okafor@voorbeeld.example"


async def post_twice(api: httpx.AsyncClient, path: str, body: Any = None) -> tuple[httpx.Response, httpx.Response]:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = await api.post(path, json=body, headers=headers)
    retry = await api.post(path, json=body, headers=headers)
    assert first.status_code < 300, first.text
    assert retry.headers.get("idempotent-replayed") == "true"
    assert retry.content == first.content
    return first, retry


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def readable_forms(raw: bytes) -> Iterator[bytes]:
    """The entry as stored, and every string in it decoded as base64 (as the store once kept answers)."""
    yield raw
    try:
        document = json.loads(raw)
    except ValueError:
        return
    for text in strings_in(document):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            with contextlib.suppress(binascii.Error, ValueError):
                yield decode(text + "=" * (-len(text) % 4))


async def bucket_entries(platform: RunningPlatform) -> list[bytes]:
    """Every value the bucket holds, read from its stream (the newest per key). Not `kv.keys()`: with the many
    keys a whole suite leaves, its watcher may report the end before the first key and say there are none."""
    nc = await nats.connect(platform.settings.nats_url)
    try:
        js = nc.jetstream()
        if (await js.stream_info(f"KV_{BUCKET}")).state.messages == 0:
            return []
        newest = ConsumerConfig(deliver_policy=DeliverPolicy.LAST_PER_SUBJECT)
        subscription = await js.subscribe(f"$KV.{BUCKET}.>", ordered_consumer=True, config=newest)
        values = []
        while True:
            message = await subscription.next_msg(timeout=PATIENCE_SECONDS)
            if (message.headers or {}).get("KV-Operation") not in ("DEL", "PURGE"):
                values.append(message.data)
            if message.metadata.num_pending == 0:
                break
        await subscription.unsubscribe()
        return values
    finally:
        await nc.close()


async def test_the_bucket_holds_no_personal_data_or_secrets_and_retries_still_get_them(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    secrets: dict[str, str] = {}
    body = referral_body(tenant.library_a, tenant.partner_a, participant={**PERSON, "email": EMAIL})
    async with platform.client(tenant.partner_a_token) as partner:
        referral, _ = await post_twice(partner, "/api/v1/referrals", body)
        api_key, _ = await post_twice(
            partner, f"/api/v1/partners/{tenant.partner_a}/api-keys", {"name": "crm", "scopes": ["feed:read"]}
        )
        secrets["api key"] = api_key.json()["key"]
        nats_credentials, _ = await post_twice(partner, f"/api/v1/partners/{tenant.partner_a}/feed/nats-credentials")
        secrets["nats token"] = nats_credentials.json()["token"]
        webhook, _ = await post_twice(
            partner,
            f"/api/v1/partners/{tenant.partner_a}/webhooks",
            {"url": "https://hooks.partner.example/partnernet", "event_types": ["*"]},
        )
        secrets["webhook secret"] = webhook.json()["secret"]
    async with platform.client(tenant.staff_a) as staff:
        accepted = await staff.post(f"/api/v1/referrals/{referral.json()['id']}/accept")
        assert accepted.status_code == 200, accepted.text
        path = f"/api/v1/referrals/{referral.json()['id']}/participant-code"
        code, _ = await post_twice(staff, path)
        secrets["participant code"] = code.json()["code"]
        card, _ = await post_twice(staff, f"{path}/card")
        assert card.headers["content-type"].startswith("text/html")
    personal = {**PERSON, "email": EMAIL, "birth date, Dutch style": "23-11-1979"}
    looked_for = {**secrets, **personal}
    entries = await bucket_entries(platform)
    assert len(entries) >= 6
    found = [
        what
        for raw in entries
        for form in readable_forms(raw)
        for what, value in looked_for.items()
        if value.encode() in form or value.replace("-", "").encode() in form
    ]
    assert not found, f"in clear in the idempotency bucket: {sorted(set(found))}"
