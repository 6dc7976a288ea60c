"""Screening: the certificate of conduct (VOG), requested and received, dated and checked by the library's policy."""

from __future__ import annotations

import sqlalchemy as sa

from services.volunteers import store
from services.volunteers.commands.recruitment import view_of, volunteer_for_change
from services.volunteers.domain import scope, screening
from services.volunteers.queries.privacy import screening_policy
from services.volunteers.queries.recruitment import certificates_of
from services.volunteers.store import personal_data
from services.volunteers.store import recruitment as recruitment_store
from services.volunteers.store.personal_data import PersonVault
from shared.clock import local_date
from shared.contracts.volunteers.api.volunteers import ReceiveCertificate, RequestCertificate, VolunteerView
from shared.contracts.volunteers.events import CertificateReceived, CertificateRequested, VolunteerKind
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork


async def request_certificate(
    work: UnitOfWork, vault: PersonVault, actor: Actor, command: RequestCertificate
) -> VolunteerView:
    """A first request, or a renewal while the current certificate still counts."""
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row = await volunteer_for_change(tx, vault, actor, command.volunteer_id, command.expected_version)
        screening.check_may_request(certificates_of(await store.find_certificates(tx.session, row.id)))
        now = tx.clock.now()
        await recruitment_store.add_certificate(tx.session, id=new_id(), volunteer_id=row.id, requested_at=now)
        await _touch(tx, row)
        await tx.stage(
            CertificateRequested(
                volunteer_id=row.id,
                library=row.library,
                municipality=row.municipality,
                kind=VolunteerKind(row.kind),
                via_partner_id=row.via_partner_id,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await view_of(tx, vault, actor, row.id)


async def receive_certificate(
    work: UnitOfWork, vault: PersonVault, actor: Actor, command: ReceiveCertificate
) -> VolunteerView:
    scope.check_may_manage(actor)
    async with work.transaction() as tx:
        row = await volunteer_for_change(tx, vault, actor, command.volunteer_id, command.expected_version)
        rows = await store.find_certificates(tx.session, row.id)
        today = local_date(tx.clock.now())
        pending = max((r for r in rows if r.issued_on is None), key=lambda r: r.requested_at, default=None)
        policy = screening_policy(await personal_data.find_policy(tx.session, row.library))
        screening.check_receipt(
            certificates_of(rows),
            command.issued_on,
            command.valid_until,
            today,
            requested_on=local_date(pending.requested_at) if pending is not None else today,
            policy=policy,
        )
        assert pending is not None
        valid_until = screening.counts_until(command.issued_on, command.valid_until, policy)
        await recruitment_store.update_certificate(
            tx.session, pending.id, received_at=tx.clock.now(), issued_on=command.issued_on, valid_until=valid_until
        )
        await _touch(tx, row)
        await tx.stage(
            CertificateReceived(
                volunteer_id=row.id,
                library=row.library,
                municipality=row.municipality,
                kind=VolunteerKind(row.kind),
                via_partner_id=row.via_partner_id,
                issued_on=command.issued_on,
                valid_until=valid_until,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await view_of(tx, vault, actor, row.id)


async def _touch(tx: Transaction, row: sa.Row) -> None:
    """A change to what the volunteer's view shows is a new version of the volunteer."""
    await recruitment_store.update_volunteer(tx.session, row.id, version=row.version + 1, updated_at=tx.clock.now())
