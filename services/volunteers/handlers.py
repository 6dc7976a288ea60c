"""NATS operations, event subscribers and periodic jobs of the volunteers service: wiring only."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from services.volunteers import store
from services.volunteers.commands import (
    assignments,
    hours,
    interns,
    privacy,
    projections,
    recruitment,
    retention,
    screening,
    training,
    training_needs,
    vacancies,
)
from services.volunteers.queries import access_log as access_log_queries
from services.volunteers.queries import annual as annual_queries
from services.volunteers.queries import assignments as assignment_queries
from services.volunteers.queries import hours as hours_queries
from services.volunteers.queries import partner_acts
from services.volunteers.queries import privacy as privacy_queries
from services.volunteers.queries import recruitment as recruitment_queries
from services.volunteers.queries import statistics as statistics_queries
from services.volunteers.queries import training as training_queries
from services.volunteers.store.personal_data import PersonVault
from shared.consumer import PROJECTION_LINGER_SECONDS
from shared.contracts.courses.events import CourseCancelled, CoursePublished, CourseUpdated, PurchaseDelivered
from shared.contracts.volunteers.api import operations as ops
from shared.retention import RETENTION_SWEEP_SECONDS
from shared.service import ServiceRuntime

# Interns whose period is over, and qualifications past their last day, are looked for this often.
PERIODIC_SECONDS = 60.0


def register(runtime: ServiceRuntime, vault: PersonVault) -> None:
    work = runtime.unit_of_work
    # recruitment
    runtime.bind(ops.CREATE_VACANCY, partial(vacancies.create_vacancy, work))
    runtime.bind(ops.UPDATE_VACANCY, partial(vacancies.update_vacancy, work))
    runtime.bind(ops.TAKE_VACANCY_STEP, partial(vacancies.take_vacancy_step, work))
    runtime.bind(ops.GET_VACANCY, partial(recruitment_queries.get_vacancy, work))
    runtime.bind(ops.LIST_VACANCIES, partial(recruitment_queries.list_vacancies, work))
    runtime.bind(ops.APPLY, partial(recruitment.apply, work, vault))
    runtime.bind(ops.TAKE_VOLUNTEER_STEP, partial(recruitment.take_volunteer_step, work, vault))
    runtime.bind(ops.UPDATE_VOLUNTEER, partial(recruitment.update_volunteer, work, vault))
    runtime.bind(ops.GET_VOLUNTEER, partial(recruitment_queries.get_volunteer, work, vault))
    runtime.bind(ops.LIST_VOLUNTEERS, partial(recruitment_queries.list_volunteers, work, vault))
    runtime.bind(ops.REQUEST_CERTIFICATE, partial(screening.request_certificate, work, vault))
    runtime.bind(ops.RECEIVE_CERTIFICATE, partial(screening.receive_certificate, work, vault))
    runtime.bind(ops.REGISTER_INTERN, partial(interns.register_intern, work, vault))
    runtime.bind(ops.CONFIRM_INTERNSHIP, partial(interns.confirm_internship, work, vault))
    runtime.bind(ops.ASSESS_INTERN, partial(interns.assess_intern, work, vault))
    runtime.bind(ops.VOLUNTEERS_STATISTICS, partial(statistics_queries.statistics, work))
    runtime.bind(ops.VOLUNTEER_PARTNER_ACTS, partial(partner_acts.partner_acts, work))
    runtime.bind(ops.VOLUNTEERS_ANNUAL_FIGURES, partial(annual_queries.annual_figures, work))
    # training
    runtime.bind(ops.ADD_TRAINING_MODULE, partial(training.add_training_module, work))
    runtime.bind(ops.UPDATE_TRAINING_MODULE, partial(training.update_training_module, work))
    runtime.bind(ops.GET_TRAINING_MODULE, partial(training_queries.get_training_module, work))
    runtime.bind(ops.LIST_TRAINING_MODULES, partial(training_queries.list_training_modules, work))
    runtime.bind(ops.SCHEDULE_TRAINING_SESSION, partial(training.schedule_training_session, work))
    runtime.bind(ops.GET_TRAINING_SESSION, partial(training_queries.get_training_session, work))
    runtime.bind(ops.LIST_TRAINING_SESSIONS, partial(training_queries.list_training_sessions, work))
    runtime.bind(ops.LIST_QUALIFICATIONS, partial(training_queries.list_qualifications, work))
    # completing a module may meet a training need (commands/training_needs.py)
    runtime.bind(ops.RECORD_ATTENDANCE, partial(training_needs.record_attendance, work))
    # assignment
    runtime.bind(ops.GET_OPENING, partial(assignment_queries.get_opening, work))
    runtime.bind(ops.LIST_OPENINGS, partial(assignment_queries.list_openings, work))
    runtime.bind(ops.UPDATE_OPENING, partial(assignments.update_opening, work))
    # a refusal for lack of a qualification is a training need too (commands/training_needs.py)
    runtime.bind(ops.ASSIGN, partial(training_needs.assign_volunteer, work))
    runtime.bind(ops.END_ASSIGNMENT, partial(assignments.end_assignment, work))
    runtime.bind(ops.GET_ASSIGNMENT, partial(assignment_queries.get_assignment, work))
    runtime.bind(ops.LIST_ASSIGNMENTS, partial(assignment_queries.list_assignments, work))
    # hours
    runtime.bind(ops.LOG_HOURS, partial(hours.log_hours, work))
    runtime.bind(ops.CORRECT_HOURS, partial(hours.correct_hours, work))
    runtime.bind(ops.REMOVE_HOURS, partial(hours.remove_hours, work))
    runtime.bind(ops.LIST_HOURS, partial(hours_queries.list_hours, work))
    runtime.bind(ops.LIST_HOURS_TOTALS, partial(hours_queries.list_hours_totals, work))
    # the person's rights and the library's retention policy
    runtime.bind(ops.EXPORT_VOLUNTEER_DATA, partial(privacy_queries.export_volunteer_data, work, vault))
    runtime.bind(ops.ERASE_VOLUNTEER_DATA, partial(privacy.erase_volunteer_data, work, vault))
    runtime.bind(ops.LIST_VOLUNTEER_READS, partial(access_log_queries.list_volunteer_reads, work))
    runtime.bind(ops.GET_VOLUNTEER_POLICY, partial(privacy_queries.get_policy, work))
    runtime.bind(ops.SET_VOLUNTEER_POLICY, partial(privacy.set_policy, work))
    runtime.bind(ops.ROTATE_ENCRYPTION, partial(privacy.rotate_encryption, work, vault))
    runtime.require_bound(ops.VOLUNTEERS)
    # what other services tell
    store.known.subscribe(runtime)  # libraries, partners and their status (shared/known_parties.py)
    store.partnerships.subscribe(runtime)  # partnerships and their terms (shared/known_parties.py)
    # every referral event, so a language buddy is matched to a participant the library knows
    runtime.consume_envelopes(
        "known-referrals",
        "events.referrals.referral.>",
        "referrals",
        statement_handler=projections.remember_referrals,
        linger_seconds=PROJECTION_LINGER_SECONDS,  # nobody waits on it: events close together, one transaction
    )
    runtime.consume("course-openings", CoursePublished, assignments.open_assignments_for_course)
    runtime.consume("course-updates", CourseUpdated, assignments.follow_course_update)
    runtime.consume("course-cancellations", CourseCancelled, assignments.close_cancelled_course)
    runtime.consume("purchased-training", PurchaseDelivered, training.add_purchased_module)
    # time-driven rules
    runtime.every(
        PERIODIC_SECONDS, "end-internships", lambda: interns.end_finished_internships(work, runtime.clock.now())
    )
    runtime.every(
        PERIODIC_SECONDS, "expire-qualifications", lambda: training.expire_qualifications(work, runtime.clock.now())
    )
    needs_tracer = runtime.telemetry.tracer("partnernet.training_needs")
    runtime.every(
        PERIODIC_SECONDS,
        "training-needs",
        lambda: training_needs.plan_training_needs(work, runtime.clock.now(), tracer=needs_tracer),
    )
    runtime.every(
        PERIODIC_SECONDS,
        "tell-suppliers-of-expiring-qualifications",
        lambda: training_needs.tell_suppliers_of_expiring_qualifications(work, runtime.clock.now()),
    )
    runtime.every(PERIODIC_SECONDS, "seal-clear-rows", partial(privacy.seal_clear_rows, work, vault))
    runtime.every(
        PERIODIC_SECONDS, "erase-after-retention", lambda: privacy.erase_after_retention(work, runtime.clock.now())
    )
    trail = partial(retention.prune_erased_trails, work, timedelta(days=runtime.settings.trail_retention_days))
    runtime.every(RETENTION_SWEEP_SECONDS, "trail-retention", trail)
