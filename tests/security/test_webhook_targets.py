"""Finding 4: webhooks reach no internal address. Refused on registration and on PATCH with one generic answer;
checked again for the address a delivery connects to (DNS can change), which is then the address used; the
delivery log tells a partner nothing about what listens inside."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from launcher.embedded import free_port
from services.partners.channels import WebhookTargets
from services.partners.domain.targets import REFUSED
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.serving import on_this_machine, serving
from tests.waiting import eventually

INTERNAL = [
    "https://10.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://[::1]:8443/hook",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://[::ffff:169.254.169.254]/hook",
    "https://127.0.0.2:5432/hook",
    "http://127.0.0.2:4222/hook",
    "https://db.localhost:8000/hook",  # (localhost itself the tests allow, for their endpoints)
    "https://postgres.internal:5432/",
    # Spellings of 127.0.0.1 that urllib reads and the deliveries' HTTP client does not: a 500 until 5 Dec.
    "https://0177.0.0.1/",
    "https://127.000.000.001/",
    "https://\u217027.0.0.1/",  # a small roman numeral one
    "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",  # full-width digits
]


async def test_internal_targets_are_refused_on_registration_and_on_patch(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    base = f"/api/v1/partners/{tenant.partner_a}/webhooks"
    async with platform.client(tenant.partner_a_token) as api:
        public = await api.post(base, json={"url": "https://hooks.partner.example/x", "event_types": ["*"]})
        assert public.status_code == 201, public.text
        webhook = public.json()["webhook"]
        answers = set()
        for url in INTERNAL:
            created = await api.post(base, json={"url": url, "event_types": ["*"]})
            patched = await api.patch(f"{base}/{webhook['id']}", json={"url": url}, headers={"If-Match": '"1"'})
            for response in (created, patched):
                assert response.status_code == 422, (url, response.text)
                answers.add(response.json()["detail"])
        listed = (await api.get(base)).json()["items"]
        unchanged = (await api.get(f"{base}/{webhook['id']}")).json()
    assert answers <= {REFUSED, "a webhook URL must use https://"}  # nothing about the target itself
    assert [w["id"] for w in listed] == [webhook["id"]]
    assert unchanged["version"] == 1 and unchanged["url"] == "https://hooks.partner.example/x"


class Listener:
    """An HTTP endpoint that notes the Host header of whatever reaches it."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        self.hosts.append(dict(scope["headers"]).get(b"host", b"").decode())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@asynccontextmanager
async def listening(host: str) -> AsyncIterator[tuple[Listener, int]]:
    app = Listener()
    config = on_this_machine(app, host)
    async with serving(config):
        yield app, config.port


async def test_a_name_that_turns_internal_after_registration_is_not_reached_and_the_log_says_nothing(
    platform: RunningPlatform, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: public when registered, inside when delivered. An open HTTP port, a closed one and an address
    where nothing answers all read the same in the delivery log, and nothing inside is reached."""
    dns: dict[str, str] = {}
    original = WebhookTargets.resolve

    async def resolve(self: WebhookTargets, host: str, port: int) -> list[Any]:
        if host in dns:
            return [ipaddress.ip_address(dns[host])]
        return await original(self, host, port)

    monkeypatch.setattr(WebhookTargets, "resolve", resolve)
    tag = tenant.partner_a[:8]
    async with listening("127.0.0.2") as (inside, open_port):
        urls = {
            f"open-{tag}.partner.example": f"https://open-{tag}.partner.example:{open_port}/hook",
            f"closed-{tag}.partner.example": f"https://closed-{tag}.partner.example:{free_port()}/hook",
            f"dark-{tag}.partner.example": f"https://dark-{tag}.partner.example/hook",
        }
        base = f"/api/v1/partners/{tenant.partner_a}/webhooks"
        hooks = []
        async with platform.client(tenant.partner_a_token) as api:
            for name, url in urls.items():
                dns[name] = "93.184.216.34"  # public when registered
                made = await api.post(base, json={"url": url, "event_types": ["referral.submitted"]})
                assert made.status_code == 201, made.text
                hooks.append(made.json()["webhook"]["id"])
            # ... and inside when delivered: an open HTTP port, a closed one, an address where nothing answers.
            for name, inside_address in zip(urls, ("127.0.0.2", "127.0.0.2", "10.255.255.1"), strict=True):
                dns[name] = inside_address
            submitted = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
            assert submitted.status_code == 201

            async def tried() -> list[dict[str, Any]] | None:
                found = []
                for webhook_id in hooks:
                    items = (await api.get(f"{base}/{webhook_id}/deliveries")).json()["items"]
                    if not items or not items[0]["attempts"]:
                        return None
                    found.append((await api.get(f"{base}/{webhook_id}/deliveries/{items[0]['id']}")).json())
                return found

            tried_deliveries = await eventually(tried, what="a try of every delivery")
    assert inside.hosts == []  # nothing inside was reached
    errors = {attempt["error"] for delivery in tried_deliveries for attempt in delivery["attempt_log"]}
    assert errors == {f"TargetRefused: {REFUSED}"}  # open, closed and dark read alike


async def test_event_types_no_event_has_are_refused_on_registration_and_on_patch(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    """A mistyped type (`referral.acepted`, `refferal.*`) made a webhook that never got a delivery, silently."""
    base = f"/api/v1/partners/{tenant.partner_a}/webhooks"
    async with platform.client(tenant.partner_a_token) as api:
        kept = await api.post(base, json={"url": "https://hooks.partner.example/t", "event_types": ["referral.*"]})
        assert kept.status_code == 201, kept.text
        webhook = kept.json()["webhook"]
        for wrong in (["referral.acepted"], ["refferal.*"], ["referral.accepted", "referal.declined"]):
            created = await api.post(base, json={"url": "https://hooks.partner.example/t", "event_types": wrong})
            patched = await api.patch(
                f"{base}/{webhook['id']}", json={"event_types": wrong}, headers={"If-Match": '"1"'}
            )
            for response in (created, patched):
                assert response.status_code == 422, (wrong, response.text)
                assert (
                    "no event is of type" in response.json()["detail"] and repr(wrong[-1]) in response.json()["detail"]
                )
        for right in (["referral.accepted"], ["referral.*", "partnership.*"], ["*"]):
            created = await api.post(base, json={"url": "https://hooks.partner.example/t", "event_types": right})
            assert created.status_code == 201, (right, created.text)
        unchanged = (await api.get(f"{base}/{webhook['id']}")).json()
    assert unchanged["version"] == 1 and unchanged["event_types"] == ["referral.*"]
