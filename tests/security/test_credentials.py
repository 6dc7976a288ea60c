"""Finding 1: a partner's credentials are its own. Nobody else mints a way to act as the partner (API keys, NATS
feed credentials, webhooks and their secrets); an operator may, for support, and says why, which the key, the
events and the audit log keep. Tried as an attacker of every other role."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

import pytest

from shared.contracts import Envelope, nats_subject
from shared.contracts.partners.events import ApiKeyCreated, ApiKeyRevoked
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.waiting import eventually, last_event

HOOK = {"url": "https://hooks.partner.example/partnernet", "event_types": ["*"]}
SCOPES = ["feed:read", "referrals:read", "referrals:write", "webhooks:read", "webhooks:write"]


async def partner_set_up(platform: RunningPlatform, tenant: Tenant) -> tuple[str, str, str]:
    """Partner A's own key and webhook, made by partner A: (key, key id, webhook id)."""
    async with platform.client(tenant.partner_a_token) as api:
        # Every scope it may give a key: what refuses the key below is the rule, not a scope it lacks.
        key = await api.post(f"/api/v1/partners/{tenant.partner_a}/api-keys", json={"name": "crm", "scopes": SCOPES})
        hook = await api.post(f"/api/v1/partners/{tenant.partner_a}/webhooks", json=HOOK)
    assert key.status_code == 201 and hook.status_code == 201, (key.text, hook.text)
    return key.json()["key"], key.json()["api_key"]["id"], hook.json()["webhook"]["id"]


def attempts(partner: str, key_id: str, webhook_id: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every way to mint, see or take away a partner's credentials, as (method, path, request options)."""
    base = f"/api/v1/partners/{partner}"
    return {
        "issue an API key": ("POST", f"{base}/api-keys", {"json": {"name": "x", "scopes": ["referrals:read"]}}),
        "list the API keys": ("GET", f"{base}/api-keys", {}),
        "revoke the partner's key": ("DELETE", f"{base}/api-keys/{key_id}", {}),
        "issue NATS feed credentials": ("POST", f"{base}/feed/nats-credentials", {}),
        "register a webhook": ("POST", f"{base}/webhooks", {"json": {**HOOK, "url": "https://evil.example/x"}}),
        "point the webhook elsewhere": (
            "PATCH",
            f"{base}/webhooks/{webhook_id}",
            {"json": {"url": "https://e.example"}},
        ),
        "rotate the webhook's secret": ("POST", f"{base}/webhooks/{webhook_id}/rotate-secret", {}),
        "pause the webhook": ("PATCH", f"{base}/webhooks/{webhook_id}", {"json": {"status": "paused"}}),
        "remove the webhook": ("DELETE", f"{base}/webhooks/{webhook_id}", {}),
    }


async def test_no_other_party_issues_lists_or_revokes_a_partners_credentials(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant
) -> None:
    key, key_id, webhook_id = await partner_set_up(platform, tenant)
    attackers = {
        "staff of the partner's library": (tenant.staff_a, 403),
        "staff of another library": (tenant.staff_b, 403),
        "the municipality's coordinator": (platform.token(Role.COORDINATOR, municipality=tenant.municipality), 403),
        "another partner": (tenant.partner_b_token, 404),
        "staff of another municipality": (elsewhere.staff_a, 403),
        "a partner of another municipality": (elsewhere.partner_a_token, 404),
        "the partner's own key": (None, 403),
    }
    for who, (token, status) in attackers.items():
        for what, (method, path, options) in attempts(tenant.partner_a, key_id, webhook_id).items():
            headers = {"X-API-Key": key} if token is None else {}
            async with platform.client(token) as api:
                response = await api.request(method, path, headers=headers, **options)
            assert response.status_code == status, f"{who} could {what}: {response.status_code} {response.text}"
            assert "pnk_" not in response.text and "whsec_" not in response.text, (who, what)
    # Nothing changed: the partner's one key still opens its feed, its webhook is as it was.
    async with platform.client(tenant.partner_a_token) as api:
        keys = (await api.get(f"/api/v1/partners/{tenant.partner_a}/api-keys", params={"include_revoked": True})).json()
        hook = (await api.get(f"/api/v1/partners/{tenant.partner_a}/webhooks/{webhook_id}")).json()
    assert [k["id"] for k in keys["items"]] == [key_id] and keys["items"][0]["revoked_at"] is None
    assert hook["version"] == 1 and hook["url"] == HOOK["url"]
    async with platform.client() as api:
        feed = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", headers={"X-API-Key": key})
    assert feed.status_code == 200


def last_event_of(platform: RunningPlatform, cls: type[Any], municipality: str) -> Awaitable[Envelope | None]:
    subject = nats_subject("partners", cls.qualified_type(), municipality, None)
    return last_event(platform.settings.nats_url, "partners", subject)


async def test_an_operator_acts_on_a_partners_credentials_only_with_a_reason_that_is_recorded(
    platform: RunningPlatform, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    _, key_id, webhook_id = await partner_set_up(platform, tenant)
    support_token = platform.issuer.issue(
        Actor(
            subject="support:beheerder", role=Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a
        )
    )
    for token in (tenant.operator, support_token):
        for what, (method, path, options) in attempts(tenant.partner_a, key_id, webhook_id).items():
            if method == "GET":
                continue
            async with platform.client(token) as api:
                response = await api.request(method, path, **options)
            assert response.status_code == 422, f"support could {what} without a reason: {response.text}"
            assert "support_reason" in response.json()["detail"]

    reason = "ticket 4711: the partner lost its key"
    base = f"/api/v1/partners/{tenant.partner_a}"
    with caplog.at_level(logging.WARNING, logger="partnernet.audit"):
        async with platform.client(tenant.operator) as api:
            issued = await api.post(
                f"{base}/api-keys", json={"name": "nieuw", "scopes": ["feed:read"]}, params={"support_reason": reason}
            )
            revoked = await api.delete(f"{base}/api-keys/{key_id}", params={"support_reason": reason})
    assert issued.status_code == 201 and revoked.status_code == 200, (issued.text, revoked.text)
    view = issued.json()["api_key"]
    assert view["created_by"].startswith("test-operator") and view["created_for_support"] == reason
    assert revoked.json()["revoked_by"].startswith("test-operator") and revoked.json()["revoked_for_support"] == reason
    audit = [r for r in caplog.records if r.name == "partnernet.audit"]
    assert {"issued an API key", "revoked an API key"} <= {r.args[1] for r in audit if isinstance(r.args, tuple)}
    assert all(getattr(r, "reason", None) == reason for r in audit)

    async def created() -> Envelope | None:
        envelope = await last_event_of(platform, ApiKeyCreated, tenant.municipality)
        return envelope if envelope and envelope.data["key_id"] == view["id"] else None

    async def revoked_event() -> Envelope | None:
        envelope = await last_event_of(platform, ApiKeyRevoked, tenant.municipality)
        return envelope if envelope and envelope.data["key_id"] == key_id else None

    for envelope in (await eventually(created), await eventually(revoked_event)):
        assert envelope.data["support_reason"] == reason and envelope.data["by"].startswith("test-operator")
        assert envelope.data["partner_id"] == tenant.partner_a


async def test_the_partners_own_keys_carry_no_support_reason(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        issued = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/api-keys", json={"name": "eigen", "scopes": ["feed:read"]}
        )
    assert issued.status_code == 201
    assert issued.json()["api_key"]["created_for_support"] is None


async def test_a_key_that_would_have_expired_when_issued_is_refused(platform: RunningPlatform, tenant: Tenant) -> None:
    """It was issued (201) and then every use of it was a 401 nobody would understand."""
    async with platform.client(tenant.partner_a_token) as api:
        base = f"/api/v1/partners/{tenant.partner_a}/api-keys"
        before = (await api.get(base)).json()["items"]
        refused = await api.post(
            base, json={"name": "late", "scopes": ["feed:read"], "expires_at": "2020-01-01T00:00:00Z"}
        )
        after = (await api.get(base)).json()["items"]
    assert refused.status_code == 422 and "expires_at has passed" in refused.json()["detail"], refused.text
    assert after == before
