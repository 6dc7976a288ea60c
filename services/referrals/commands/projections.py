"""What the referrals service keeps of the partners service's data: libraries, partners and their status."""

from __future__ import annotations

import logging
from uuid import UUID

from services.referrals import domain, store
from shared.contracts import Envelope
from shared.contracts.partners.events import (
    LibraryRegistered,
    PartnerEnded,
    PartnerReactivated,
    PartnerRegistered,
    PartnerSuspended,
)
from shared.unit_of_work import Transaction

log = logging.getLogger(__name__)


async def remember_library(tx: Transaction, envelope: Envelope, event: LibraryRegistered) -> None:
    await store.remember_library(tx.session, event.library, event.municipality)


async def remember_partner(tx: Transaction, envelope: Envelope, event: PartnerRegistered) -> None:
    await store.remember_partner(tx.session, event.partner_id, event.municipality, event.name)


async def partner_suspended(tx: Transaction, envelope: Envelope, event: PartnerSuspended) -> None:
    await _status(tx, envelope, event.partner_id, event.municipality, domain.PartnerStatus.SUSPENDED)


async def partner_reactivated(tx: Transaction, envelope: Envelope, event: PartnerReactivated) -> None:
    await _status(tx, envelope, event.partner_id, event.municipality, domain.PartnerStatus.ACTIVE)


async def partner_ended(tx: Transaction, envelope: Envelope, event: PartnerEnded) -> None:
    await _status(tx, envelope, event.partner_id, event.municipality, domain.PartnerStatus.ENDED)


async def _status(
    tx: Transaction, envelope: Envelope, partner_id: UUID, municipality: str, status: domain.PartnerStatus
) -> None:
    await store.remember_partner_status(tx.session, partner_id, municipality, status.value, envelope.time)
    log.info("partner is %s", status.value, extra={"partner": str(partner_id)})
