"""NATS operations, event subscribers and periodic jobs of the volunteers service: wiring only."""

from __future__ import annotations

from functools import partial

from services.volunteers import store
from services.volunteers.commands import (
    assignments,
    hours,
    interns,
    privacy,
    projections,
    recruitment,
    screening,
    training,
    training_needs,
)
from services.volunteers.queries import access_log as access_log_queries
from services.volunteers.queries import assignments as assignment_queries
from services.volunteers.queries import hours as hours_queries
from services.volunteers.queries import privacy as privacy_queries
from services.volunteers.queries import recruitment as recruitment_queries
from services.volunteers.queries import statistics as statistics_queries
from services.volunteers.queries import training as training_queries
from services.volunteers.store.personal_data import PersonVault
from shared.contracts.courses.events import CourseCancelled, CoursePublished, CourseUpdated, PurchaseDelivered
from shared.contracts.partners.events import (
    PartnershipActivated,
    PartnershipEnded,
    PartnershipSuspended,
)
from shared.contracts.referrals.api.participant_data import RotateEncryption
from shared.contracts.volunteers.api.access_log import ListVolunteerReads
from shared.contracts.volunteers.api.assignments import (
    AssignVolunteer,
    CorrectHours,
    EndAssignment,
    GetAssignment,
    GetOpening,
    ListAssignments,
    ListHours,
    ListHoursTotals,
    ListOpenings,
    LogHours,
    RemoveHours,
    UpdateOpening,
)
from shared.contracts.volunteers.api.personal_data import (
    EraseVolunteerData,
    ExportVolunteerData,
    GetVolunteerPolicy,
    SetVolunteerPolicy,
)
from shared.contracts.volunteers.api.statistics import GetVolunteersStatistics
from shared.contracts.volunteers.api.training import (
    AddTrainingModule,
    GetTrainingModule,
    GetTrainingSession,
    ListTrainingModules,
    ListTrainingSessions,
    RecordAttendance,
    ScheduleTrainingSession,
    UpdateTrainingModule,
)
from shared.contracts.volunteers.api.vacancies import (
    CreateVacancy,
    GetVacancy,
    ListVacancies,
    TakeVacancyStep,
    UpdateVacancy,
)
from shared.contracts.volunteers.api.volunteers import (
    Apply,
    GetVolunteer,
    ListQualifications,
    ListVolunteers,
    ReceiveCertificate,
    RegisterIntern,
    RequestCertificate,
    TakeVolunteerStep,
    UpdateVolunteer,
)
from shared.service import ServiceRuntime

# Interns whose period is over, and qualifications past their last day, are looked for this often.
PERIODIC_SECONDS = 60.0


def register(runtime: ServiceRuntime, vault: PersonVault) -> None:
    work = runtime.unit_of_work
    # recruitment
    runtime.answer("create_vacancy", CreateVacancy, partial(recruitment.create_vacancy, work))
    runtime.answer("update_vacancy", UpdateVacancy, partial(recruitment.update_vacancy, work))
    runtime.answer("take_vacancy_step", TakeVacancyStep, partial(recruitment.take_vacancy_step, work))
    runtime.answer("get_vacancy", GetVacancy, partial(recruitment_queries.get_vacancy, work))
    runtime.answer("list_vacancies", ListVacancies, partial(recruitment_queries.list_vacancies, work))
    runtime.answer("apply", Apply, partial(recruitment.apply, work, vault))
    runtime.answer("take_volunteer_step", TakeVolunteerStep, partial(recruitment.take_volunteer_step, work, vault))
    runtime.answer("update_volunteer", UpdateVolunteer, partial(recruitment.update_volunteer, work, vault))
    runtime.answer("get_volunteer", GetVolunteer, partial(recruitment_queries.get_volunteer, work, vault))
    runtime.answer("list_volunteers", ListVolunteers, partial(recruitment_queries.list_volunteers, work, vault))
    runtime.answer("request_certificate", RequestCertificate, partial(screening.request_certificate, work, vault))
    runtime.answer("receive_certificate", ReceiveCertificate, partial(screening.receive_certificate, work, vault))
    runtime.answer("register_intern", RegisterIntern, partial(interns.register_intern, work, vault))
    runtime.answer("statistics", GetVolunteersStatistics, partial(statistics_queries.statistics, work))
    # training
    runtime.answer("add_training_module", AddTrainingModule, partial(training.add_training_module, work))
    runtime.answer("update_training_module", UpdateTrainingModule, partial(training.update_training_module, work))
    runtime.answer("get_training_module", GetTrainingModule, partial(training_queries.get_training_module, work))
    runtime.answer("list_training_modules", ListTrainingModules, partial(training_queries.list_training_modules, work))
    runtime.answer(
        "schedule_training_session", ScheduleTrainingSession, partial(training.schedule_training_session, work)
    )
    runtime.answer("get_training_session", GetTrainingSession, partial(training_queries.get_training_session, work))
    runtime.answer(
        "list_training_sessions", ListTrainingSessions, partial(training_queries.list_training_sessions, work)
    )
    runtime.answer("list_qualifications", ListQualifications, partial(training_queries.list_qualifications, work))
    # completing a module may meet a training need (commands/training_needs.py)
    runtime.answer("record_attendance", RecordAttendance, partial(training_needs.record_attendance, work))
    # assignment
    runtime.answer("get_opening", GetOpening, partial(assignment_queries.get_opening, work))
    runtime.answer("list_openings", ListOpenings, partial(assignment_queries.list_openings, work))
    runtime.answer("update_opening", UpdateOpening, partial(assignments.update_opening, work))
    # a refusal for lack of a qualification is a training need too (commands/training_needs.py)
    runtime.answer("assign", AssignVolunteer, partial(training_needs.assign_volunteer, work))
    runtime.answer("end_assignment", EndAssignment, partial(assignments.end_assignment, work))
    runtime.answer("get_assignment", GetAssignment, partial(assignment_queries.get_assignment, work))
    runtime.answer("list_assignments", ListAssignments, partial(assignment_queries.list_assignments, work))
    # hours
    runtime.answer("log_hours", LogHours, partial(hours.log_hours, work))
    runtime.answer("correct_hours", CorrectHours, partial(hours.correct_hours, work))
    runtime.answer("remove_hours", RemoveHours, partial(hours.remove_hours, work))
    runtime.answer("list_hours", ListHours, partial(hours_queries.list_hours, work))
    runtime.answer("list_hours_totals", ListHoursTotals, partial(hours_queries.list_hours_totals, work))
    # the person's rights and the library's retention policy
    runtime.answer("export", ExportVolunteerData, partial(privacy_queries.export_volunteer_data, work, vault))
    runtime.answer("erase", EraseVolunteerData, partial(privacy.erase_volunteer_data, work, vault))
    runtime.answer("access_log", ListVolunteerReads, partial(access_log_queries.list_volunteer_reads, work))
    runtime.answer("get_policy", GetVolunteerPolicy, partial(privacy_queries.get_policy, work))
    runtime.answer("set_policy", SetVolunteerPolicy, partial(privacy.set_policy, work))
    runtime.answer("rotate_encryption", RotateEncryption, partial(privacy.rotate_encryption, work, vault))
    # what other services tell
    store.known.subscribe(runtime)  # libraries, partners and their status (shared/known_parties.py)
    runtime.consume("partnership-activated", PartnershipActivated, projections.partnership_activated)
    runtime.consume("partnership-ended", PartnershipEnded, projections.partnership_ended)
    runtime.consume("partnership-suspended", PartnershipSuspended, projections.partnership_suspended)
    # every referral event, so a language buddy is matched to a participant the library knows
    runtime.consume_envelopes(
        "known-referrals", "events.referrals.referral.>", "referrals", projections.remember_referral
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
    runtime.every(PERIODIC_SECONDS, "seal-clear-rows", partial(privacy.seal_clear_rows, work, vault))
    runtime.every(
        PERIODIC_SECONDS, "erase-after-retention", lambda: privacy.erase_after_retention(work, runtime.clock.now())
    )
