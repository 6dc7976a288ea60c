"""Partners' API keys: issued, listed and revoked by the partners service (stored hashed), and the gateway's
question whose key it was given (`rpc.partners.authenticate_api_key`, `.issue_api_key`, `.list_api_keys`,
`.revoke_api_key`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, Limit, Name, Reason


class AuthenticateApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`rpc.partners.authenticate_api_key`: the gateway asks who a presented key belongs to."""

    key: str


class ApiKeyIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Answer to AuthenticateApiKey; an unknown or revoked key is a NotFound error instead."""

    key_id: UUID
    partner_id: UUID
    municipality: str
    scopes: list[str]  # e.g. "referrals:write", "referrals:read", "feed:read"


Scope = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z][a-z-]*:(read|write)$", description="`<resource>:read` or `<resource>:write`")
]


class ApiKeyRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=40)]
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class IssueApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    request: ApiKeyRequest
    support_reason: Reason | None = None  # required of an operator (support), recorded with the key


class ListApiKeys(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    include_revoked: bool = False
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class RevokeApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: UUID
    key_id: UUID
    support_reason: Reason | None = None  # required of an operator (support), recorded with the key


class ApiKeyView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    partner_id: UUID
    name: str
    scopes: list[str]
    prefix: str  # the first characters of the key, to recognise it
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    # Set where an operator issued or revoked the key for support: why (the partner sees it).
    created_for_support: str | None = None
    revoked_by: str | None = None
    revoked_for_support: str | None = None


class ApiKeyIssued(msgspec.Struct, frozen=True, kw_only=True):
    """The key itself is shown once; only its SHA-256 is kept."""

    api_key: ApiKeyView
    key: str
