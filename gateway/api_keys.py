"""Routes for partners' API keys: issue (the key is shown once), list and revoke.

A partner's keys are its own: the partner itself, with a person's token (an API key cannot manage keys), or an
operator for support, who says why (`support_reason`, kept with the key). Staff and coordinators get a 403.
A key acts as its partner within its scopes (see gateway/auth.py).
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from gateway.dependencies import CursorQuery, LimitQuery, SupportReason
from shared.contracts.partners.api.api_keys import (
    ApiKeyIssued,
    ApiKeyRequest,
    ApiKeyView,
    IssueApiKey,
    ListApiKeys,
    RevokeApiKey,
)
from shared.contracts.vocabulary import DEFAULT_LIMIT
from shared.pagination import Page
from shared.rpc import RpcClient
from shared.tenancy import Actor


class ApiKeyController(Controller):
    path = "/api/v1/partners/{partner_id:uuid}/api-keys"
    tags = ["api keys"]

    @post("/", summary="Issue an API key with scopes, e.g. `referrals:write`, `feed:read` (shown once)")
    async def issue(
        self,
        partner_id: FromPath[UUID],
        data: JSONBody[ApiKeyRequest],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        support_reason: SupportReason = None,
    ) -> ApiKeyIssued:
        command = IssueApiKey(partner_id=partner_id, request=data, support_reason=support_reason)
        return await rpc.call("partners", "issue_api_key", actor, command, ApiKeyIssued)

    @get("/", summary="The partner's API keys (never the keys themselves)")
    async def list_keys(
        self,
        partner_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        include_revoked: FromQuery[bool] = False,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> Page[ApiKeyView]:
        query = ListApiKeys(partner_id=partner_id, include_revoked=include_revoked, cursor=cursor, limit=limit)
        return await rpc.call("partners", "list_api_keys", actor, query, Page[ApiKeyView])

    @delete("/{key_id:uuid}", status_code=200, summary="Revoke an API key (gateways drop it and end its live streams)")
    async def revoke(
        self,
        partner_id: FromPath[UUID],
        key_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        support_reason: SupportReason = None,
    ) -> ApiKeyView:
        command = RevokeApiKey(partner_id=partner_id, key_id=key_id, support_reason=support_reason)
        return await rpc.call("partners", "revoke_api_key", actor, command, ApiKeyView)
