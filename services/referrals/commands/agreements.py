"""Municipality-wide referral agreements: the coordinator records that a partner refers to (and receives from)
every library of the municipality, and ends it; from its end the partner sees pseudonyms only."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from services.referrals import domain, store
from services.referrals.queries.agreements import agreement_view
from services.referrals.store import partnerships
from shared.contracts.referrals.api.agreements import (
    EndReferralAgreement,
    RecordReferralAgreement,
    ReferralAgreementView,
)
from shared.errors import Conflict, NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def record_agreement(work: UnitOfWork, actor: Actor, command: RecordReferralAgreement) -> ReferralAgreementView:
    try:
        async with work.transaction() as tx:
            partner = await store.known.find_partner(tx.session, command.partner_id)
            municipality = domain.check_may_record_agreement(actor, partner.municipality if partner else None)
            values = {
                "id": new_id(),
                "municipality": municipality,
                "partner_id": command.partner_id,
                "note": command.note,
                "recorded_at": tx.clock.now(),
                "recorded_by": actor.subject,
            }
            row = await partnerships.add_agreement(tx.session, **values)
    except IntegrityError:  # the partial unique index: one agreement in force per partner and municipality
        raise Conflict(
            f"partner {command.partner_id} already has a referral agreement in force",
            partner_id=str(command.partner_id),
        ) from None
    log.info("referral agreement recorded", extra={"partner": str(command.partner_id), "municipality": municipality})
    return agreement_view(row)


async def end_agreement(work: UnitOfWork, actor: Actor, command: EndReferralAgreement) -> ReferralAgreementView:
    async with work.transaction() as tx:
        row = await partnerships.lock_agreement(tx.session, command.agreement_id)
        domain.check_may_record_agreement(actor, row.municipality if row is not None else None)
        if row is None:
            raise NotFound(f"agreement {command.agreement_id} not found")
        if row.ended_at is not None:
            raise Conflict("the agreement has ended already", ended_at=row.ended_at.isoformat())
        row = await partnerships.end_agreement(tx.session, row.id, at=tx.clock.now(), by=actor.subject)
    log.info("referral agreement ended", extra={"partner": str(row.partner_id), "municipality": row.municipality})
    return agreement_view(row)
