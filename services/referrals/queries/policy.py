"""A library's referral policy as staff and coordinators read it."""

from __future__ import annotations

import sqlalchemy as sa

from services.referrals import domain, store
from shared.contracts.referrals.api.referrals import GetReferralPolicy, ReferralPolicyView
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


def policy_view(library: str, row: sa.Row | None) -> ReferralPolicyView:
    if row is None:
        policy = domain.DEFAULT_POLICY
        return ReferralPolicyView(
            library=library,
            response_days=policy.response_days,
            expiry_days=policy.expiry_days,
            retention_days=policy.retention_days,
            is_default=True,
            version=0,
        )
    return ReferralPolicyView(
        library=library,
        response_days=row.response_days,
        expiry_days=row.expiry_days,
        retention_days=row.retention_days,
        is_default=False,
        version=row.version,
    )


async def get_policy(work: UnitOfWork, actor: Actor, query: GetReferralPolicy) -> ReferralPolicyView:
    library = domain.check_may_read_policy(actor, query.library)
    async with work.read() as session:
        municipality = await store.known.library_municipality(session, library)
        if municipality is None or not actor.can_see_library(library, municipality):
            raise NotFound(f"library {library} not found")
        row = await store.find_policy(session, library)
    return policy_view(library, row)
