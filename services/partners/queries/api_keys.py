"""A partner's API keys, without the keys themselves (only their digests are kept)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.partners import store
from services.partners.domain.access import check_may_manage_credentials, check_role_may_manage_credentials
from services.partners.queries.views import api_key_view
from shared.contracts.partners.api.api_keys import ApiKeyView, ListApiKeys
from shared.errors import NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

K = store.api_keys


async def list_api_keys(work: UnitOfWork, actor: Actor, query: ListApiKeys) -> Page[ApiKeyView]:
    check_role_may_manage_credentials(actor)
    conditions: list[Any] = [K.c.partner_id == query.partner_id]
    if not query.include_revoked:
        conditions.append(K.c.revoked_at.is_(None))
    async with work.read() as session:
        partner = await store.find_partner(session, query.partner_id)
        if partner is None:
            raise NotFound(f"partner {query.partner_id} not found")
        check_may_manage_credentials(actor, partner.id)
        shown, next_cursor = await keyset_page(
            session, sa.select(K).where(*conditions), [K.c.created_at, K.c.id], query.cursor, query.limit
        )
    return Page(items=[api_key_view(r) for r in shown], next_cursor=next_cursor)
