"""Partners' credentials: API keys for their systems, NATS credentials for their feed, and the NATS auth callout.

A key is shown once and kept as its SHA-256 only. The gateway asks whose a key is
(`authenticate_api_key`); the NATS server asks the same through the auth callout when a partner
connects with a key as its token, and gets back a user JWT that may read that partner's feed only.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any
from uuid import UUID

from services.partners import store
from services.partners.channels import NatsFeeds
from services.partners.domain import access, feeds
from services.partners.domain import api_keys as keys
from services.partners.queries.views import api_key_view
from services.partners.store import credentials as credential_store
from shared.contracts.partners.api.api_keys import (
    ApiKeyIdentity,
    ApiKeyIssued,
    ApiKeyRequest,
    ApiKeyView,
    AuthenticateApiKey,
    IssueApiKey,
    RevokeApiKey,
)
from shared.contracts.partners.api.feeds import IssueNatsCredentials, NatsFeedCredentials
from shared.contracts.partners.api.organisations import PartnerStatus
from shared.contracts.partners.events import ApiKeyCreated, ApiKeyRevoked
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.ids import new_id
from shared.nats_callout import ACCOUNT, PREFIX_SERVER, REQUEST_AUDIENCE, decode_jwt
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)
audit = logging.getLogger("partnernet.audit")

NATS_SESSION = timedelta(minutes=10)  # a partner's NATS user is re-authorised (and a revoked key dropped) this often
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def issue_api_key(work: UnitOfWork, actor: Actor, command: IssueApiKey) -> ApiKeyIssued:
    access.check_may_manage_credentials(actor, command.partner_id)
    reason = access.support_reason(actor, command.support_reason)
    async with work.transaction() as tx:
        return await _issue(tx, actor, command.partner_id, command.request, reason)


async def _issue(
    tx: Transaction, actor: Actor, partner_id: UUID, request: ApiKeyRequest, reason: str | None
) -> ApiKeyIssued:
    partner = await store.find_partner(tx.session, partner_id)
    if partner is None:
        raise NotFound(f"partner {partner_id} not found")
    if partner.status == PartnerStatus.ENDED:
        raise Conflict(f"partner {partner_id} has ended: it gets no new keys")
    if request.expires_at is not None and request.expires_at <= tx.clock.now():
        # A key that could never be used, handed out as if it could (each use a 401 nobody would understand).
        raise InvalidInput("expires_at has passed: a key expires after it is issued - at `$.expires_at`")
    key = keys.KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = new_id()
    scopes = keys.distinct_scopes(request.scopes)
    row = await credential_store.add_key(
        tx.session,
        id=key_id,
        partner_id=partner.id,
        name=request.name,
        scopes=scopes,
        digest=keys.digest(key),
        prefix=keys.shown_prefix(key),
        created_at=tx.clock.now(),
        created_by=actor.subject,
        created_for_support=reason,
        expires_at=request.expires_at,
    )
    event = ApiKeyCreated(
        key_id=key_id,
        partner_id=partner.id,
        municipality=partner.municipality,
        scopes=scopes,
        by=actor.subject,
        support_reason=reason,
    )
    await tx.stage(event, municipality=partner.municipality, library=None)
    audit_support(actor, "issued an API key", partner.id, reason, key_id=key_id, scopes=scopes)
    return ApiKeyIssued(api_key=api_key_view(row), key=key)


async def revoke_api_key(work: UnitOfWork, actor: Actor, command: RevokeApiKey) -> ApiKeyView:
    access.check_may_manage_credentials(actor, command.partner_id)
    reason = access.support_reason(actor, command.support_reason)
    async with work.transaction() as tx:
        partner = await store.find_partner(tx.session, command.partner_id)
        if partner is None:
            raise NotFound(f"partner {command.partner_id} not found")
        row = await credential_store.lock_key(tx.session, partner.id, command.key_id)
        if row is None:
            raise NotFound(f"API key {command.key_id} not found")
        if row.revoked_at is None:  # revoking twice is the same as once
            values = {"revoked_at": tx.clock.now(), "revoked_by": actor.subject, "revoked_for_support": reason}
            row = await credential_store.update_key(tx.session, row.id, **values)
            event = ApiKeyRevoked(
                key_id=row.id,
                partner_id=partner.id,
                municipality=partner.municipality,
                by=actor.subject,
                support_reason=reason,
            )
            await tx.stage(event, municipality=partner.municipality, library=None)
            audit_support(actor, "revoked an API key", partner.id, reason, key_id=row.id)
    return api_key_view(row)


def audit_support(actor: Actor, what: str, partner_id: UUID, reason: str | None, **ids: Any) -> None:
    """An operator acted on a partner's credentials: one line in the audit log, whoever reads the logs."""
    if reason is None:
        return
    fields = {key: str(value) for key, value in ids.items()}
    audit.warning(
        "support: %s %s for partner %s: %s",
        actor.subject,
        what,
        partner_id,
        reason,
        extra={"audit": "support", "actor": actor.subject, "partner_id": str(partner_id), "reason": reason, **fields},
    )


async def authenticate_api_key(work: UnitOfWork, actor: Actor, query: AuthenticateApiKey) -> ApiKeyIdentity:
    access.check_may_authenticate_keys(actor)
    return await identify(work, query.key)


async def identify(work: UnitOfWork, key: str) -> ApiKeyIdentity:
    """Whose key this is; NotFound for an unknown, revoked or expired key, or one of an ended partner."""
    async with work.transaction() as tx:
        now = tx.clock.now()
        row = await credential_store.key_by_digest(tx.session, keys.digest(key))
        if row is None or not keys.is_usable(
            revoked_at=row.revoked_at, expires_at=row.expires_at, partner_status=row.partner_status, now=now
        ):
            raise NotFound("the API key is not valid")
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            await credential_store.update_key(tx.session, row.id, last_used_at=now)
    return ApiKeyIdentity(key_id=row.id, partner_id=row.partner_id, municipality=row.municipality, scopes=row.scopes)


async def issue_nats_credentials(
    work: UnitOfWork, nats: NatsFeeds, actor: Actor, command: IssueNatsCredentials
) -> NatsFeedCredentials:
    """A key that reads the feed (over NATS and HTTP), and the partner's durable consumer to read it with."""
    access.check_may_manage_credentials(actor, command.partner_id)
    reason = access.support_reason(actor, command.support_reason)
    request = ApiKeyRequest(name=command.name, scopes=[keys.FEED_SCOPE])
    async with work.transaction() as tx:
        issued = await _issue(tx, actor, command.partner_id, request, reason)
    await nats.ensure_consumer(command.partner_id)
    return NatsFeedCredentials(access=nats.access(command.partner_id), key_id=issued.api_key.id, token=issued.key)


async def ensure_feed_consumers(work: UnitOfWork, nats: NatsFeeds) -> int:
    """The durable consumer of every partner that holds a feed key, made again where NATS lost it (a new
    cluster, a restore onto fresh servers): the partner reads its feed from the first entry and skips by id."""
    async with work.transaction() as tx:
        wanted = await credential_store.holders_of_scope(tx.session, keys.FEED_SCOPE, tx.clock.now())
    for partner_id in wanted:
        await nats.ensure_consumer(partner_id)
    return len(wanted)


# --- the NATS auth callout: the server asks, for every connection but the platform's own ------------


async def authorise_nats_connection(work: UnitOfWork, nats: NatsFeeds, request_jwt: str) -> str:
    """The answer (a JWT signed by our issuer) to the server's authorization request: a user JWT that may
    read the partner's own feed, or a refusal. Never raises: the server waits for an answer."""
    assert nats.issuer is not None
    issued_at = int(work.clock.now().timestamp())
    try:
        request = decode_jwt(request_jwt, issuer_prefix=PREFIX_SERVER)
        details = request["nats"]
        user_nkey, server_id = str(details["user_nkey"]), str(details["server_id"]["id"])
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("an authorization request that is not one: %s", exc)
        return ""
    if request.get("aud") != REQUEST_AUDIENCE:
        log.warning("an authorization request for %r", request.get("aud"))
        return ""
    options = details.get("connect_opts") or {}
    key = options.get("auth_token") or options.get("pass") or ""
    answer: dict[str, Any] = {"sub": user_nkey, "aud": server_id}
    try:
        identity = await identify(work, key)
        if keys.FEED_SCOPE not in identity.scopes:
            raise Forbidden(f"the key lacks the scope {keys.FEED_SCOPE}")
    except (NotFound, Forbidden) as exc:
        answer["nats"] = {"error": exc.detail, "type": "authorization_response", "version": 2}
        log.info("refused a NATS connection: %s", exc.detail)
    else:
        user = {
            "sub": user_nkey,
            "aud": ACCOUNT,
            "name": f"partner-{identity.partner_id}",
            "exp": issued_at + int(NATS_SESSION.total_seconds()),
            "nats": {**feeds.nats_permissions(identity.partner_id), "type": "user", "version": 2},
        }
        answer["nats"] = {
            "jwt": nats.issuer.sign(user, issued_at=issued_at),
            "type": "authorization_response",
            "version": 2,
        }
        log.info("authorised a NATS connection of partner %s", identity.partner_id)
    return nats.issuer.sign(answer, issued_at=issued_at)
