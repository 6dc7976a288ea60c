"""A purchase is requested, and quotes come in: added by the library, or submitted by a partner it invited."""

from __future__ import annotations

from services.courses import store
from services.courses.commands.purchasing.steps import (
    advance,
    insert_quote,
    load_purchase_to_act,
    local_today,
    record_history,
)
from services.courses.domain import purchasing as domain
from services.courses.domain.purchasing import PurchaseStep
from services.courses.queries import budgets as budget_queries
from services.courses.queries import purchasing as queries
from services.courses.store import purchasing as purchasing_store
from shared.contracts.courses.api.purchasing import (
    AddQuote,
    InvitePartner,
    ProviderPurchaseView,
    PurchaseStatus,
    PurchaseView,
    RequestPurchase,
    SubmitQuote,
)
from shared.contracts.courses.events import (
    PurchaseProviderInvited,
    PurchaseRequested,
)
from shared.errors import Conflict, InvalidInput, NotFound
from shared.ids import new_id
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def request_purchase(work: UnitOfWork, actor: Actor, command: RequestPurchase) -> PurchaseView:
    domain.check_may_purchase(actor)
    library = domain.purchasing_library(actor, command.library)
    purchase_id = new_id()
    async with work.transaction() as tx:
        municipality = await store.known.library_municipality(tx.session, library)
        if municipality is None:
            raise InvalidInput(f"library {library} is not known to the courses service")
        now = tx.clock.now()
        year = command.budget_year or domain.budget_year_of(now)
        budget = await budget_queries.load_budget(tx.session, library, year)
        budget.check_room(command.estimated_cost_cents, "this request")
        audience = list(dict.fromkeys(command.audience))
        await purchasing_store.add_purchase(
            tx.session,
            id=purchase_id,
            library=library,
            municipality=municipality,
            title=command.title,
            purpose=command.purpose,
            audience=[a.value for a in audience],
            estimated_cost_cents=command.estimated_cost_cents,
            budget_year=year,
            status=PurchaseStatus.REQUESTED.value,
            requested_by=actor.subject,
            requested_at=now,
            updated_at=now,
            version=1,
        )
        await record_history(tx, purchase_id, PurchaseStatus.REQUESTED, actor, None)
        await tx.stage(
            PurchaseRequested(
                purchase_id=purchase_id,
                library=library,
                municipality=municipality,
                title=command.title,
                audience=audience,
                estimated_cost_cents=command.estimated_cost_cents,
                budget_year=year,
            ),
            municipality=municipality,
            library=library,
        )
        return await queries.load_purchase_view(tx.session, purchase_id)


async def add_quote(work: UnitOfWork, actor: Actor, command: AddQuote) -> PurchaseView:
    domain.check_may_purchase(actor)
    quote = command.quote
    quote_id = new_id()
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, quote.expected_version)
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.ADD_QUOTE)
        domain.check_new_quote(quote.valid_until, local_today(tx))
        if quote.provider_partner_id is not None and (
            await store.partner_municipality(tx.session, quote.provider_partner_id) != row.municipality
        ):
            raise InvalidInput(f"partner {quote.provider_partner_id} is not known in municipality {row.municipality}")
        await insert_quote(
            tx,
            row,
            status,
            actor,
            quote_id=quote_id,
            provider_name=quote.provider_name,
            provider_partner_id=quote.provider_partner_id,
            amount_cents=quote.amount_cents,
            description=quote.description,
            valid_until=quote.valid_until,
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def invite_partner(work: UnitOfWork, actor: Actor, command: InvitePartner) -> PurchaseView:
    """The library asks a partner of its municipality for a quote; the partner then submits its own."""
    domain.check_may_purchase(actor)
    invitation = command.invitation
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, invitation.expected_version)
        domain.apply_step(PurchaseStatus(row.status), PurchaseStep.ADD_QUOTE)  # only while quotes are welcome
        partner = await store.known.find_partner(tx.session, invitation.partner_id)
        if partner is None or partner.municipality != row.municipality:
            raise InvalidInput(f"partner {invitation.partner_id} is not known in municipality {row.municipality}")
        domain.check_partner_may_quote(partner.id, partner.status)
        added = await purchasing_store.add_invitation(
            tx.session, row.id, partner.id, invited_by=actor.subject, invited_at=tx.clock.now()
        )
        if not added:
            raise Conflict(f"partner {partner.id} was invited to quote for purchase {row.id} already")
        await advance(tx, row, PurchaseStatus(row.status), actor, f"{partner.name} invited to quote")
        await tx.stage(
            PurchaseProviderInvited(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                partner_id=partner.id,
                title=row.title,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def submit_quote(work: UnitOfWork, actor: Actor, command: SubmitQuote) -> ProviderPurchaseView:
    """A partner's own quote for a purchase it was invited to, under the name the municipality knows it by."""
    domain.check_acts_as_partner(actor, command.partner_id)
    quote = command.quote
    quote_id = new_id()
    async with work.transaction() as tx:
        row = await purchasing_store.find_purchase(tx.session, command.purchase_id, for_update=True)
        invited = row is not None and await purchasing_store.find_invitation(tx.session, row.id, command.partner_id)
        if row is None or not invited:
            raise NotFound(f"purchase {command.purchase_id} not found")
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.ADD_QUOTE)
        domain.check_new_quote(quote.valid_until, local_today(tx))
        partner = await store.known.find_partner(tx.session, command.partner_id)
        assert partner is not None  # it was invited, so the projection knows it
        domain.check_partner_may_quote(partner.id, partner.status)
        await insert_quote(
            tx,
            row,
            status,
            actor,
            quote_id=quote_id,
            provider_name=partner.name,
            provider_partner_id=partner.id,
            amount_cents=quote.amount_cents,
            description=quote.description,
            valid_until=quote.valid_until,
        )
        return await queries.load_provider_view(tx.session, command.partner_id, row.id)
