"""Every operation the volunteers service answers (`rpc.volunteers.<name>`): its request, its reply, who may
call it.

The service binds a use case to each (services/volunteers/handlers.py); the gateway calls them by these names.
Roles are the ones that may ask at all; the use case still checks the actor's library, municipality or partner
(and answers what lies outside it as not found).
"""

from __future__ import annotations

from shared.contracts.referrals.api.participant_data import RotateEncryption, RotationResult
from shared.contracts.vocabulary import Page
from shared.contracts.volunteers.api.access_log import ListVolunteerReads, VolunteerReadEntry
from shared.contracts.volunteers.api.annual import AnnualVolunteerFigures, GetAnnualVolunteerFigures
from shared.contracts.volunteers.api.assignments import (
    AssignmentView,
    AssignVolunteer,
    CorrectHours,
    EndAssignment,
    GetAssignment,
    GetOpening,
    HoursEntryView,
    HoursTotalView,
    ListAssignments,
    ListHours,
    ListHoursTotals,
    ListOpenings,
    LogHours,
    OpeningView,
    RemoveHours,
    UpdateOpening,
)
from shared.contracts.volunteers.api.personal_data import (
    EraseVolunteerData,
    ExportVolunteerData,
    GetVolunteerPolicy,
    SetVolunteerPolicy,
    VolunteerExport,
    VolunteerPolicyView,
)
from shared.contracts.volunteers.api.statistics import (
    GetVolunteerPartnerActs,
    GetVolunteersStatistics,
    VolunteersPartnerActs,
    VolunteersStatistics,
)
from shared.contracts.volunteers.api.training import (
    AddTrainingModule,
    GetTrainingModule,
    GetTrainingSession,
    ListTrainingModules,
    ListTrainingSessions,
    RecordAttendance,
    ScheduleTrainingSession,
    TrainingModuleView,
    TrainingSessionView,
    UpdateTrainingModule,
)
from shared.contracts.volunteers.api.vacancies import (
    CreateVacancy,
    GetVacancy,
    ListVacancies,
    TakeVacancyStep,
    UpdateVacancy,
    VacancyView,
)
from shared.contracts.volunteers.api.volunteers import (
    Apply,
    AssessIntern,
    ConfirmInternship,
    GetVolunteer,
    HeldQualificationView,
    ListQualifications,
    ListVolunteers,
    ReceiveCertificate,
    RegisterIntern,
    RequestCertificate,
    TakeVolunteerStep,
    UpdateVolunteer,
    VolunteerView,
)
from shared.operations import EVERYONE, Operations
from shared.tenancy import Role

VOLUNTEERS = Operations("volunteers")

# Who may ask: a library's staff keep its volunteers' records (operators too), coordinators read along;
# personal data is handled by the staff of the person's library. Volunteer organisations and schools (partners)
# apply, supply interns and take their own steps, checked by the use case.
MANAGERS = (Role.STAFF, Role.OPERATOR)
READERS = (Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
STAFF = (Role.STAFF,)
# A volunteer organisation whose partnership brings training trains the library's volunteers (issue 24).
TRAINERS = (*MANAGERS, Role.PARTNER)
# A supplying partner reads the hours of the people it supplied, and no one else's.
HOURS_READERS = (*READERS, Role.PARTNER)

# --- recruitment: vacancies, applications and the pipeline, screening, interns
CREATE_VACANCY = VOLUNTEERS.declare(
    "create_vacancy", CreateVacancy, VacancyView, MANAGERS, "Create a vacancy (draft) for the caller's library"
)
UPDATE_VACANCY = VOLUNTEERS.declare(
    "update_vacancy", UpdateVacancy, VacancyView, MANAGERS, "Change what a vacancy asks (If-Match or expected_version)"
)
TAKE_VACANCY_STEP = VOLUNTEERS.declare(
    "take_vacancy_step", TakeVacancyStep, VacancyView, MANAGERS, "Publish or close a vacancy"
)
GET_VACANCY = VOLUNTEERS.declare("get_vacancy", GetVacancy, VacancyView, EVERYONE, "One vacancy")
LIST_VACANCIES = VOLUNTEERS.declare(
    "list_vacancies",
    ListVacancies,
    Page[VacancyView],
    EVERYONE,
    "Vacancies in scope; a volunteer organisation sees the published ones of its libraries",
)
APPLY = VOLUNTEERS.declare(
    "apply",
    Apply,
    VolunteerView,
    EVERYONE,
    "Apply: through the library's own channel (staff) or a volunteer organisation (recorded)",
)
TAKE_VOLUNTEER_STEP = VOLUNTEERS.declare(
    "take_volunteer_step",
    TakeVolunteerStep,
    VolunteerView,
    EVERYONE,
    "A step of the pipeline: start_intake, start_screening, activate, withdraw, reject, deactivate, "
    "reactivate; end (interns)",
)
UPDATE_VOLUNTEER = VOLUNTEERS.declare(
    "update_volunteer",
    UpdateVolunteer,
    VolunteerView,
    MANAGERS,
    "Change contact details, motivation, or whether the role needs a VOG",
)
GET_VOLUNTEER = VOLUNTEERS.declare(
    "get_volunteer",
    GetVolunteer,
    VolunteerView,
    EVERYONE,
    "One volunteer or intern (names and contacts for the library's staff)",
)
LIST_VOLUNTEERS = VOLUNTEERS.declare(
    "list_volunteers", ListVolunteers, Page[VolunteerView], EVERYONE, "Volunteers and interns in scope"
)
REQUEST_CERTIFICATE = VOLUNTEERS.declare(
    "request_certificate",
    RequestCertificate,
    VolunteerView,
    MANAGERS,
    "Request a certificate of conduct (VOG), first or as a renewal",
)
RECEIVE_CERTIFICATE = VOLUNTEERS.declare(
    "receive_certificate",
    ReceiveCertificate,
    VolunteerView,
    MANAGERS,
    "The requested certificate of conduct arrived: its date, and until when it counts",
)
REGISTER_INTERN = VOLUNTEERS.declare(
    "register_intern",
    RegisterIntern,
    VolunteerView,
    EVERYONE,
    "Register an intern supplied by a partner school (staff, or the school itself)",
)
CONFIRM_INTERNSHIP = VOLUNTEERS.declare(
    "confirm_internship",
    ConfirmInternship,
    VolunteerView,
    (Role.PARTNER,),
    "The school confirms its intern's period as registered (once, while the internship runs)",
)
ASSESS_INTERN = VOLUNTEERS.declare(
    "assess_intern",
    AssessIntern,
    VolunteerView,
    STAFF,
    "The library's end-of-period assessment of its intern, for the school (replaces an earlier one)",
)
VOLUNTEERS_STATISTICS = VOLUNTEERS.declare(
    "statistics",
    GetVolunteersStatistics,
    VolunteersStatistics,
    EVERYONE,
    "The volunteers part of the municipality's overview",
)
VOLUNTEER_PARTNER_ACTS = VOLUNTEERS.declare(
    "partner_acts",
    GetVolunteerPartnerActs,
    VolunteersPartnerActs,
    (Role.STAFF, Role.COORDINATOR, Role.OPERATOR),
    "Per partner over a period: trainings it gave and their attendance, interns it supplied and their hours",
)

VOLUNTEERS_ANNUAL_FIGURES = VOLUNTEERS.declare(
    "annual_figures",
    GetAnnualVolunteerFigures,
    AnnualVolunteerFigures,
    READERS,
    "The volunteers part of the municipality's annual report",
)

# --- training: modules, sessions, attendance and the qualifications it gives
ADD_TRAINING_MODULE = VOLUNTEERS.declare(
    "add_training_module",
    AddTrainingModule,
    TrainingModuleView,
    TRAINERS,
    "Add a training module given by the library or a volunteer organisation (which may add its own)",
)
UPDATE_TRAINING_MODULE = VOLUNTEERS.declare(
    "update_training_module",
    UpdateTrainingModule,
    TrainingModuleView,
    MANAGERS,
    "Change a module: its qualification and how long it holds",
)
GET_TRAINING_MODULE = VOLUNTEERS.declare(
    "get_training_module", GetTrainingModule, TrainingModuleView, EVERYONE, "One training module"
)
LIST_TRAINING_MODULES = VOLUNTEERS.declare(
    "list_training_modules",
    ListTrainingModules,
    Page[TrainingModuleView],
    EVERYONE,
    "Training modules in scope (bought ones included)",
)
SCHEDULE_TRAINING_SESSION = VOLUNTEERS.declare(
    "schedule_training_session",
    ScheduleTrainingSession,
    TrainingSessionView,
    TRAINERS,
    "Schedule a session of a module (a volunteer organisation: of a module it gives)",
)
GET_TRAINING_SESSION = VOLUNTEERS.declare(
    "get_training_session",
    GetTrainingSession,
    TrainingSessionView,
    EVERYONE,
    "One training session with its attendance",
)
LIST_TRAINING_SESSIONS = VOLUNTEERS.declare(
    "list_training_sessions",
    ListTrainingSessions,
    Page[TrainingSessionView],
    EVERYONE,
    "Training sessions in scope, by start",
)
LIST_QUALIFICATIONS = VOLUNTEERS.declare(
    "list_qualifications",
    ListQualifications,
    Page[HeldQualificationView],
    READERS,
    "Who holds which qualification (for a volunteer, a code, a library)",
)
RECORD_ATTENDANCE = VOLUNTEERS.declare(
    "record_attendance",
    RecordAttendance,
    TrainingSessionView,
    TRAINERS,
    "Record attendance; completing the module gives its qualification (a volunteer organisation: its sessions)",
)

# --- assignment: open assignments from courses, assignments, hours
GET_OPENING = VOLUNTEERS.declare("get_opening", GetOpening, OpeningView, READERS, "One open assignment")
LIST_OPENINGS = VOLUNTEERS.declare(
    "list_openings",
    ListOpenings,
    Page[OpeningView],
    READERS,
    "Courses that need volunteers as guides, with the places left",
)
UPDATE_OPENING = VOLUNTEERS.declare(
    "update_opening", UpdateOpening, OpeningView, MANAGERS, "What the guides of this course need (qualifications, VOG)"
)
ASSIGN = VOLUNTEERS.declare(
    "assign",
    AssignVolunteer,
    AssignmentView,
    MANAGERS,
    "Assign an active, screened and qualified volunteer or intern (409 says what lacks)",
)
END_ASSIGNMENT = VOLUNTEERS.declare("end_assignment", EndAssignment, AssignmentView, MANAGERS, "End an assignment")
GET_ASSIGNMENT = VOLUNTEERS.declare(
    "get_assignment", GetAssignment, AssignmentView, EVERYONE, "One assignment with the minutes logged on it"
)
LIST_ASSIGNMENTS = VOLUNTEERS.declare(
    "list_assignments",
    ListAssignments,
    Page[AssignmentView],
    EVERYONE,
    "Assignments in scope; a supplying partner sees those of its people",
)
LOG_HOURS = VOLUNTEERS.declare("log_hours", LogHours, HoursEntryView, MANAGERS, "Log hours worked on an assignment")
CORRECT_HOURS = VOLUNTEERS.declare(
    "correct_hours",
    CorrectHours,
    HoursEntryView,
    MANAGERS,
    "Correct a wrong hours entry, with a reason (its history keeps what it said)",
)
REMOVE_HOURS = VOLUNTEERS.declare(
    "remove_hours",
    RemoveHours,
    HoursEntryView,
    MANAGERS,
    "Remove an hours entry logged by mistake, with a reason (it stays in the history, no longer counts)",
)
LIST_HOURS = VOLUNTEERS.declare(
    "list_hours",
    ListHours,
    Page[HoursEntryView],
    HOURS_READERS,
    "An assignment's hours entries, removed ones flagged, with history",
)
LIST_HOURS_TOTALS = VOLUNTEERS.declare(
    "list_hours_totals",
    ListHoursTotals,
    Page[HoursTotalView],
    HOURS_READERS,
    "Hours (in minutes) summed per volunteer, library and month",
)

# --- the person's rights and the library's retention policy
EXPORT_VOLUNTEER_DATA = VOLUNTEERS.declare(
    "export", ExportVolunteerData, VolunteerExport, STAFF, "Everything held about the person (right of access; staff)"
)
ERASE_VOLUNTEER_DATA = VOLUNTEERS.declare(
    "erase",
    EraseVolunteerData,
    VolunteerView,
    STAFF,
    "Erase the person's personal data now; someone in service leaves it first (staff)",
)
LIST_VOLUNTEER_READS = VOLUNTEERS.declare(
    "access_log",
    ListVolunteerReads,
    Page[VolunteerReadEntry],
    STAFF,
    "Who read volunteers' personal data in the caller's library, newest first (staff)",
)
GET_VOLUNTEER_POLICY = VOLUNTEERS.declare(
    "get_policy",
    GetVolunteerPolicy,
    VolunteerPolicyView,
    READERS,
    "How long the library keeps leavers' personal data (defaults where not set)",
)
SET_VOLUNTEER_POLICY = VOLUNTEERS.declare(
    "set_policy",
    SetVolunteerPolicy,
    VolunteerPolicyView,
    READERS,
    "Set how long the library keeps leavers' personal data (its staff, its coordinator)",
)
ROTATE_ENCRYPTION = VOLUNTEERS.declare(
    "rotate_encryption",
    RotateEncryption,
    RotationResult,
    (Role.OPERATOR,),
    "Re-seal personal data with the newest key (operators)",
)
