"""NATS operations and event subscribers of the courses service: decode, check, call one use case."""

from __future__ import annotations

from functools import partial

from services.courses import store
from services.courses.commands import (
    attendance,
    budgets,
    education,
    enrolment,
    projections,
    resident_data,
    residents,
    training_needs,
)
from services.courses.commands.offer import courses, sessions, tasks
from services.courses.commands.purchasing import approval, fulfilment, invoices, requesting
from services.courses.commands.resident_mail import ResidentMailWorker, resident_mail_relay
from services.courses.queries import annual, partner_acts, statistics
from services.courses.queries import budgets as budget_queries
from services.courses.queries import education as education_queries
from services.courses.queries import enrolment as enrolment_queries
from services.courses.queries import offer as offer_queries
from services.courses.queries import public as public_queries
from services.courses.queries import purchasing as purchasing_queries
from services.courses.store.residents import ResidentVault
from shared.consumer import PROJECTION_LINGER_SECONDS
from shared.contracts.courses.api import operations as ops
from shared.contracts.courses.api import purchasing_operations as purchasing_ops
from shared.contracts.volunteers.events import TrainingNeeded, TrainingNeedMet
from shared.service import ServiceRuntime

RESIDENT_JOBS_SECONDS = 60.0


def register(runtime: ServiceRuntime, vault: ResidentVault, mail: ResidentMailWorker | None) -> None:
    work = runtime.unit_of_work
    # the offer
    runtime.bind(ops.CREATE_COURSE, partial(courses.create_course, work))
    runtime.bind(ops.UPDATE_COURSE, partial(courses.update_course, work))
    runtime.bind(ops.PUBLISH_COURSE, partial(courses.publish_course, work))
    runtime.bind(ops.CANCEL_COURSE, partial(courses.cancel_course, work))
    runtime.bind(ops.GET_COURSE, partial(offer_queries.get_course, work))
    runtime.bind(ops.LIST_COURSES, partial(offer_queries.list_courses, work))
    runtime.bind(ops.SCHEDULE_SESSION, partial(sessions.schedule_session, work))
    runtime.bind(ops.UPDATE_SESSION, partial(sessions.update_session, work))
    runtime.bind(ops.CANCEL_SESSION, partial(sessions.cancel_session, work))
    runtime.bind(ops.GET_SESSION, partial(offer_queries.get_session, work))
    runtime.bind(ops.LIST_SESSIONS, partial(offer_queries.list_sessions, work))
    # enrolment
    runtime.bind(ops.ENROL, partial(enrolment.enrol, work))
    runtime.bind(ops.CANCEL_ENROLMENT, partial(enrolment.cancel_enrolment, work))
    runtime.bind(ops.RECORD_ATTENDANCE, partial(attendance.record_attendance, work))
    runtime.bind(ops.RECORD_REGISTER, partial(attendance.record_register, work))
    runtime.bind(ops.GET_ENROLMENT, partial(enrolment_queries.get_enrolment, work))
    runtime.bind(ops.LIST_ENROLMENTS, partial(enrolment_queries.list_enrolments, work))
    runtime.bind(purchasing_ops.REQUEST_PURCHASE, partial(requesting.request_purchase, work))
    runtime.bind(purchasing_ops.ADD_QUOTE, partial(requesting.add_quote, work))
    runtime.bind(purchasing_ops.APPROVE_PURCHASE, partial(approval.approve_purchase, work))
    runtime.bind(purchasing_ops.REJECT_PURCHASE, partial(approval.reject_purchase, work))
    runtime.bind(purchasing_ops.CANCEL_PURCHASE, partial(approval.cancel_purchase, work))
    runtime.bind(purchasing_ops.ORDER_PURCHASE, partial(fulfilment.order_purchase, work))
    runtime.bind(purchasing_ops.RECORD_DELIVERY, partial(fulfilment.record_delivery, work))
    runtime.bind(purchasing_ops.RECORD_INVOICE, partial(invoices.record_invoice, work))
    runtime.bind(purchasing_ops.APPROVE_INVOICE, partial(invoices.approve_invoice, work))
    runtime.bind(purchasing_ops.REFUSE_INVOICE, partial(invoices.refuse_invoice, work))
    runtime.bind(purchasing_ops.INVITE_PARTNER, partial(requesting.invite_partner, work))
    runtime.bind(purchasing_ops.CLOSE_PURCHASE, partial(fulfilment.close_purchase, work))
    runtime.bind(purchasing_ops.GET_PURCHASE, partial(purchasing_queries.get_purchase, work))
    runtime.bind(purchasing_ops.LIST_PURCHASES, partial(purchasing_queries.list_purchases, work))
    # a partner's side: the purchases it was invited to quote for, its own quotes
    runtime.bind(purchasing_ops.SUBMIT_QUOTE, partial(requesting.submit_quote, work))
    runtime.bind(purchasing_ops.GET_PROVIDER_PURCHASE, partial(purchasing_queries.get_provider_purchase, work))
    runtime.bind(purchasing_ops.LIST_PROVIDER_PURCHASES, partial(purchasing_queries.list_provider_purchases, work))
    runtime.bind(purchasing_ops.SET_BUDGET, partial(budgets.set_budget, work))
    runtime.bind(purchasing_ops.GET_BUDGET, partial(budget_queries.get_budget, work))
    runtime.bind(purchasing_ops.LIST_BUDGETS, partial(budget_queries.list_budgets, work))
    runtime.bind(purchasing_ops.APPOINT_BUDGET_HOLDER, partial(budgets.appoint_budget_holder, work))
    runtime.bind(purchasing_ops.REMOVE_BUDGET_HOLDER, partial(budgets.remove_budget_holder, work))
    runtime.bind(purchasing_ops.LIST_BUDGET_HOLDERS, partial(budget_queries.list_budget_holders, work))
    runtime.bind(purchasing_ops.LIST_BUDGET_HOLDER_CHANGES, partial(budget_queries.list_budget_holder_changes, work))
    runtime.bind(purchasing_ops.SET_PURCHASING_POLICY, partial(budgets.set_purchasing_policy, work))
    runtime.bind(purchasing_ops.GET_PURCHASING_POLICY, partial(budget_queries.get_purchasing_policy, work))
    # the public calendar and residents' own sign-ups (issue 22)
    runtime.bind(ops.PUBLIC_CALENDAR, partial(public_queries.public_calendar, work))
    runtime.bind(ops.REGISTER_RESIDENT, partial(residents.register_resident, work, vault))
    runtime.bind(ops.OPEN_REGISTRATION, partial(residents.open_registration, work, vault))
    runtime.bind(ops.TAKE_REGISTRATION_STEP, partial(residents.take_registration_step, work, vault))
    runtime.bind(ops.EXPORT_RESIDENT_DATA, partial(resident_data.export_resident_data, work, vault))
    runtime.bind(ops.LIST_SESSION_RESIDENTS, partial(resident_data.list_session_residents, work, vault))
    runtime.bind(ops.ERASE_RESIDENT_DATA, partial(resident_data.erase_resident_data, work, vault))
    runtime.bind(ops.ROTATE_ENCRYPTION, partial(resident_data.rotate_encryption, work, vault))
    runtime.every(RESIDENT_JOBS_SECONDS, "resident-offers", partial(residents.pass_on_lapsed_offers, work))
    runtime.every(RESIDENT_JOBS_SECONDS, "resident-retention", partial(residents.erase_after_retention, work))
    if mail is not None:
        runtime.add_relay(resident_mail_relay(runtime.settings, mail))
    # the figures of the gateway's municipality overview
    runtime.bind(ops.COURSES_STATISTICS, partial(statistics.statistics, work))
    # what partners did over a period (issue 24): the overview's year to date, the annual report's year
    runtime.bind(ops.COURSES_PARTNER_ACTS, partial(partner_acts.partner_acts, work))
    runtime.bind(ops.COURSES_ANNUAL_FIGURES, partial(annual.annual_figures, work))
    # tailored education: a referrer's request, the library's course for it (places reserved for its referrals)
    runtime.bind(ops.CHECK_COURSE_TASK, partial(tasks.check_course_task, work))
    runtime.bind(ops.REQUEST_TAILORED_EDUCATION, partial(education.request_tailored_education, work))
    runtime.bind(ops.ANSWER_EDUCATION_REQUEST, partial(education.answer_education_request, work))
    runtime.bind(ops.RELEASE_RESERVATION, partial(education.release_reservation, work))
    runtime.every(RESIDENT_JOBS_SECONDS, "reservation-ends", partial(education.release_lapsed_reservations, work))
    runtime.bind(ops.GET_EDUCATION_REQUEST, partial(education_queries.get_education_request, work))
    runtime.bind(ops.LIST_EDUCATION_REQUESTS, partial(education_queries.list_education_requests, work))
    runtime.require_bound(ops.COURSES)
    runtime.require_bound(purchasing_ops.PURCHASING)
    # projections of other services' events
    store.known.subscribe(runtime)  # libraries, partners and their status (shared/known_parties.py)
    store.partnerships.subscribe(runtime)
    # every referral event, submissions too: a referral's participant and parties, who alone enrol it, and an
    # enrolment from a referral that cannot take one refused at once (nobody waits on it: what arrives close
    # together goes into one transaction)
    runtime.consume_envelopes(
        "referral-statuses",
        "events.referrals.referral.>",
        "referrals",
        statement_handler=projections.referrals_moved,
        linger_seconds=PROJECTION_LINGER_SECONDS,
    )
    # training needs of the volunteers service become purchase request drafts
    runtime.consume("training-needs", TrainingNeeded, training_needs.plan_purchase)
    runtime.consume("training-needs-met", TrainingNeedMet, training_needs.need_met)
