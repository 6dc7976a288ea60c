"""A library's referral policy: the agreed response time, expiry, and retention of personal data."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import domain, store
from services.referrals.queries.policy import policy_view
from shared.contracts.referrals.api.referrals import ReferralPolicyView, SetReferralPolicy
from shared.errors import NotFound
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork
from shared.versions import is_stale, version_conflict


async def policy_for(session: AsyncSession, library: str) -> domain.Policy:
    return policy_of(await store.find_policy(session, library))


def policy_of(row: Any) -> domain.Policy:
    """The policy in a row with `response_days`, `expiry_days`, `retention_days` (NULL: none set, the default)."""
    if row is None or row.response_days is None:
        return domain.DEFAULT_POLICY
    return domain.Policy(
        response_days=row.response_days, expiry_days=row.expiry_days, retention_days=row.retention_days
    )


async def set_policy(work: UnitOfWork, actor: Actor, command: SetReferralPolicy) -> ReferralPolicyView:
    library = domain.check_may_set_policy(actor, command.library)
    policy = domain.Policy(
        response_days=command.response_days, expiry_days=command.expiry_days, retention_days=command.retention_days
    )
    async with work.transaction() as tx:
        if actor.role is Role.OPERATOR and await store.known.library_municipality(tx.session, library) is None:
            raise NotFound(f"library {library} not found")
        current = policy_view(library, await store.find_policy(tx.session, library, lock=True))
        if is_stale(command.expected_version, current.version):
            raise version_conflict(f"the policy of {library}", command.expected_version, current)
        await store.save_policy(
            tx.session,
            library,
            response_days=policy.response_days,
            expiry_days=policy.expiry_days,
            retention_days=policy.retention_days,
            now=tx.clock.now(),
        )
        row = await store.find_policy(tx.session, library)
    return policy_view(library, row)
