"""NATS operations and event subscribers of the courses service: decode, check, call one use case."""

from __future__ import annotations

from functools import partial

from services.courses import store
from services.courses.commands import budgets, enrolment, offer, projections, purchasing, training_needs
from services.courses.queries import enrolment as enrolment_queries
from services.courses.queries import offer as offer_queries
from services.courses.queries import purchasing as purchasing_queries
from services.courses.queries import statistics
from shared.contracts.courses.api.budgets import (
    AppointBudgetHolder,
    GetBudget,
    GetPurchasingPolicy,
    ListBudgetHolderChanges,
    ListBudgetHolders,
    ListBudgets,
    RemoveBudgetHolder,
    SetBudget,
    SetPurchasingPolicy,
)
from shared.contracts.courses.api.courses import (
    CancelCourse,
    CancelSession,
    CreateCourse,
    GetCourse,
    GetSession,
    ListCourses,
    ListSessions,
    PublishCourse,
    ScheduleSession,
    UpdateCourse,
    UpdateSession,
)
from shared.contracts.courses.api.enrolments import (
    CancelEnrolment,
    EnrolParticipant,
    GetEnrolment,
    ListEnrolments,
    RecordAttendance,
)
from shared.contracts.courses.api.purchasing import (
    AddQuote,
    ApproveInvoice,
    ApprovePurchase,
    CancelPurchase,
    ClosePurchase,
    GetProviderPurchase,
    GetPurchase,
    InvitePartner,
    ListProviderPurchases,
    ListPurchases,
    OrderPurchase,
    RecordDelivery,
    RecordInvoice,
    RefuseInvoice,
    RejectPurchase,
    RequestPurchase,
    SubmitQuote,
)
from shared.contracts.courses.api.statistics import GetCoursesStatistics
from shared.contracts.referrals.events import ReferralSubmitted, ReferralSubmittedV2
from shared.contracts.volunteers.events import TrainingNeeded, TrainingNeedMet
from shared.service import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    work = runtime.unit_of_work
    # the offer
    runtime.answer("create_course", CreateCourse, partial(offer.create_course, work))
    runtime.answer("update_course", UpdateCourse, partial(offer.update_course, work))
    runtime.answer("publish_course", PublishCourse, partial(offer.publish_course, work))
    runtime.answer("cancel_course", CancelCourse, partial(offer.cancel_course, work))
    runtime.answer("get_course", GetCourse, partial(offer_queries.get_course, work))
    runtime.answer("list_courses", ListCourses, partial(offer_queries.list_courses, work))
    runtime.answer("schedule_session", ScheduleSession, partial(offer.schedule_session, work))
    runtime.answer("update_session", UpdateSession, partial(offer.update_session, work))
    runtime.answer("cancel_session", CancelSession, partial(offer.cancel_session, work))
    runtime.answer("get_session", GetSession, partial(offer_queries.get_session, work))
    runtime.answer("list_sessions", ListSessions, partial(offer_queries.list_sessions, work))
    # enrolment
    runtime.answer("enrol", EnrolParticipant, partial(enrolment.enrol, work))
    runtime.answer("cancel_enrolment", CancelEnrolment, partial(enrolment.cancel_enrolment, work))
    runtime.answer("record_attendance", RecordAttendance, partial(enrolment.record_attendance, work))
    runtime.answer("get_enrolment", GetEnrolment, partial(enrolment_queries.get_enrolment, work))
    runtime.answer("list_enrolments", ListEnrolments, partial(enrolment_queries.list_enrolments, work))
    runtime.answer("request_purchase", RequestPurchase, partial(purchasing.request_purchase, work))
    runtime.answer("add_quote", AddQuote, partial(purchasing.add_quote, work))
    runtime.answer("approve_purchase", ApprovePurchase, partial(purchasing.approve_purchase, work))
    runtime.answer("reject_purchase", RejectPurchase, partial(purchasing.reject_purchase, work))
    runtime.answer("cancel_purchase", CancelPurchase, partial(purchasing.cancel_purchase, work))
    runtime.answer("order_purchase", OrderPurchase, partial(purchasing.order_purchase, work))
    runtime.answer("record_delivery", RecordDelivery, partial(purchasing.record_delivery, work))
    runtime.answer("record_invoice", RecordInvoice, partial(purchasing.record_invoice, work))
    runtime.answer("approve_invoice", ApproveInvoice, partial(purchasing.approve_invoice, work))
    runtime.answer("refuse_invoice", RefuseInvoice, partial(purchasing.refuse_invoice, work))
    runtime.answer("invite_partner", InvitePartner, partial(purchasing.invite_partner, work))
    runtime.answer("close_purchase", ClosePurchase, partial(purchasing.close_purchase, work))
    runtime.answer("get_purchase", GetPurchase, partial(purchasing_queries.get_purchase, work))
    runtime.answer("list_purchases", ListPurchases, partial(purchasing_queries.list_purchases, work))
    # a partner's side: the purchases it was invited to quote for, its own quotes
    runtime.answer("submit_quote", SubmitQuote, partial(purchasing.submit_quote, work))
    runtime.answer(
        "get_provider_purchase", GetProviderPurchase, partial(purchasing_queries.get_provider_purchase, work)
    )
    runtime.answer(
        "list_provider_purchases", ListProviderPurchases, partial(purchasing_queries.list_provider_purchases, work)
    )
    runtime.answer("set_budget", SetBudget, partial(budgets.set_budget, work))
    runtime.answer("get_budget", GetBudget, partial(purchasing_queries.get_budget, work))
    runtime.answer("list_budgets", ListBudgets, partial(purchasing_queries.list_budgets, work))
    runtime.answer("appoint_budget_holder", AppointBudgetHolder, partial(budgets.appoint_budget_holder, work))
    runtime.answer("remove_budget_holder", RemoveBudgetHolder, partial(budgets.remove_budget_holder, work))
    runtime.answer("list_budget_holders", ListBudgetHolders, partial(purchasing_queries.list_budget_holders, work))
    runtime.answer(
        "list_budget_holder_changes",
        ListBudgetHolderChanges,
        partial(purchasing_queries.list_budget_holder_changes, work),
    )
    runtime.answer("set_purchasing_policy", SetPurchasingPolicy, partial(budgets.set_purchasing_policy, work))
    runtime.answer(
        "get_purchasing_policy", GetPurchasingPolicy, partial(purchasing_queries.get_purchasing_policy, work)
    )
    # the figures of the gateway's municipality overview
    runtime.answer("statistics", GetCoursesStatistics, partial(statistics.statistics, work))
    # projections of other services' events
    store.known.subscribe(runtime)  # libraries, partners and their status (shared/known_parties.py)
    store.partnerships.subscribe(runtime)
    runtime.consume("known-referrals", ReferralSubmitted, projections.remember_referral)
    runtime.consume("known-referrals-v2", ReferralSubmittedV2, projections.remember_referral_v2)
    # every referral event, so an enrolment from a referral that cannot take one is refused at once
    runtime.consume_envelopes(
        "referral-statuses", "events.referrals.referral.>", "referrals", projections.referral_moved
    )
    # training needs of the volunteers service become purchase request drafts
    runtime.consume("training-needs", TrainingNeeded, training_needs.plan_purchase)
    runtime.consume("training-needs-met", TrainingNeedMet, training_needs.need_met)
