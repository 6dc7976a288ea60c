"""Possible duplicates: the blind index written when a referral is submitted, the warnings it gives, staff's
decisions on them, and the digests forgotten when they are no longer needed.

Only digests are compared: the name and birth date are hashed under the blind index key in this process and
never stored, logged or published (no event carries a digest or a name). A warning names the two referrals,
the score and whether the match was exact.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.referrals import blind_index, store
from services.referrals.blind_index import NEAR_MATCH, BlindKeys
from services.referrals.queries.duplicates import warning_view
from services.referrals.queries.referral import as_written
from services.referrals.store import duplicates as duplicate_store
from services.referrals.store.duplicates import Candidate
from shared.contracts.referrals.api.duplicates import DecideDuplicate, DuplicateDecision, DuplicateWarningView
from shared.errors import NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)

NEW_WARNING = {"decision": DuplicateDecision.OPEN.value, "decided_at": None, "decided_by": None, "version": 1}


def possible_duplicates(
    keys: BlindKeys, candidates: list[Candidate], *, library: str, flagged_at: datetime
) -> list[dict[str, Any]]:
    """The warnings a new referral gives: one for every candidate (an open referral of the municipality sharing a
    digest, store/duplicates.py) that is an exact match or a near one. They are written by the statement that
    writes the referral (store/submission.py), so a referral is never stored without them."""
    warnings: list[dict[str, Any]] = []
    for candidate in candidates:
        shared, theirs = candidate.shared, candidate.features
        score = 1.0 if candidate.exact else blind_index.similarity(shared, len(keys.features), theirs)
        if score < NEAR_MATCH:
            continue
        warnings.append(
            {
                "id": new_id(),
                "duplicate_of": candidate.referral_id,
                "library": library,
                "duplicate_library": candidate.library,
                "similarity": round(score, 3),
                "exact": candidate.exact,
                "flagged_at": flagged_at,
            }
        )
    return warnings


def warnings_as_written(referral_id: UUID, municipality: str, warnings: list[dict[str, Any]]) -> list[sa.Row]:
    """A new referral has no warnings but these (nobody can have linked to it yet): its view needs no read back."""
    written = {"referral_id": referral_id, "municipality": municipality} | NEW_WARNING
    return [as_written(warning | written) for warning in warnings]


async def decide_duplicate(work: UnitOfWork, actor: Actor, command: DecideDuplicate) -> DuplicateWarningView:
    """Link (the same person: both referrals stay, linked) or keep separate (the warning is dismissed)."""
    library = blind_index.check_may_handle_duplicates(actor)
    async with work.transaction() as tx:
        row = await duplicate_store.lock_warning(tx.session, command.warning_id)
        if row is None or row.library != library:
            raise NotFound(f"warning {command.warning_id} not found")
        if is_stale(command.expected_version, row.version):
            raise version_conflict(f"warning {row.id}", command.expected_version, warning_view(row))
        decision = blind_index.decide(DuplicateDecision(row.decision), command.step)
        now = tx.clock.now()
        await duplicate_store.decide(tx.session, row, decision, now, actor.subject)
        referral = await store.find_referral(tx.session, row.referral_id)
        assert referral is not None
        # On the referral's history, so whoever reads it sees the decision; not a version of the referral.
        await store.add_history(
            tx.session,
            referral.id,
            status=referral.status,
            at=now,
            actor=actor.subject,
            step=f"duplicate_{decision.value}",
            version=referral.version,
            details={"duplicate_of": str(row.duplicate_of), "warning_id": str(row.id)},
        )
        updated = await duplicate_store.lock_warning(tx.session, row.id)
    assert updated is not None
    return warning_view(updated)
