"""An approved purchase is ordered, delivered (a programme for volunteers becomes a training module in the
volunteers service, by its event) and, once invoiced, closed."""

from __future__ import annotations

from services.courses.commands.purchasing.steps import (
    advance,
    find_quote,
    load_purchase_to_act,
)
from services.courses.domain import purchasing as domain
from services.courses.domain.purchasing import PurchaseStep
from services.courses.queries import purchasing as queries
from services.courses.store import training_needs as training_need_store
from shared.clock import local_date
from shared.contracts.courses.api.purchasing import (
    ClosePurchase,
    OrderPurchase,
    PurchaseStatus,
    PurchaseView,
    RecordDelivery,
)
from shared.contracts.courses.events import (
    Audience,
    PurchaseClosed,
    PurchaseDelivered,
    PurchaseOrdered,
)
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def order_purchase(work: UnitOfWork, actor: Actor, command: OrderPurchase) -> PurchaseView:
    domain.check_may_purchase(actor)
    order = command.order
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, order.expected_version)
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.ORDER)
        quote = await find_quote(tx.session, row.id, row.chosen_quote_id)
        assert quote is not None
        await advance(
            tx,
            row,
            status,
            actor,
            f"order {order.order_reference}",
            order_reference=order.order_reference,
            ordered_at=tx.clock.now(),
        )
        await tx.stage(
            PurchaseOrdered(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                order_reference=order.order_reference,
                provider_name=quote.provider_name,
                provider_partner_id=quote.provider_partner_id,
                amount_cents=row.approved_amount_cents,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def record_delivery(work: UnitOfWork, actor: Actor, command: RecordDelivery) -> PurchaseView:
    """A programme delivered for volunteers becomes a training module in the volunteers service (its event)."""
    domain.check_may_purchase(actor)
    delivery = command.delivery
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, delivery.expected_version)
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.DELIVER)
        ordered_at = row.ordered_at or row.updated_at  # before migration 004 the order's time was not kept
        domain.check_delivery_date(delivery.delivered_on, local_date(ordered_at), local_date(tx.clock.now()))
        quote = await find_quote(tx.session, row.id, row.chosen_quote_id)
        assert quote is not None
        await advance(
            tx,
            row,
            status,
            actor,
            f"{delivery.sessions_held} sessions, {delivery.participants} participants",
            sessions_held=delivery.sessions_held,
            participants=delivery.participants,
            delivered_on=delivery.delivered_on,
        )
        audience = [Audience(x) for x in row.audience]
        bought_for = await training_need_store.needs_of(tx.session, [row.id])  # drafted from training needs
        await tx.stage(
            PurchaseDelivered(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                title=row.title,
                provider_partner_id=quote.provider_partner_id,
                for_volunteers=Audience.VOLUNTEERS in audience,
                purpose=row.purpose,
                audience=audience,
                provider_name=quote.provider_name,
                sessions_held=delivery.sessions_held,
                participants=delivery.participants,
                delivered_on=delivery.delivered_on,
                qualifications=sorted({need.qualification for need in bought_for}),
                training_need_ids=[need.id for need in bought_for],
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def close_purchase(work: UnitOfWork, actor: Actor, command: ClosePurchase) -> PurchaseView:
    domain.check_may_purchase(actor)
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, command.expected_version)
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.CLOSE)
        await advance(tx, row, status, actor, None)
        await tx.stage(
            PurchaseClosed(purchase_id=row.id, library=row.library, municipality=row.municipality),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)
