"""The operations the courses service answers (`rpc.courses.<name>`): its request, its reply, who may call it.

The offer, enrolment, the public calendar and tailored education here; purchasing and budgets in
purchasing_operations.py, under the same service name.

The service binds a use case to each (services/courses/handlers.py); the gateway calls them by these names.
Roles are the ones that may ask at all; the use case still checks the actor's library, municipality or partner
(and answers what lies outside it as not found).
"""

from __future__ import annotations

from shared.contracts.courses.api.annual import AnnualCourseFigures, GetAnnualCourseFigures
from shared.contracts.courses.api.courses import (
    CancelCourse,
    CancelSession,
    CheckCourseTask,
    CourseView,
    CreateCourse,
    GetCourse,
    GetSession,
    ListCourses,
    ListSessions,
    PublishCourse,
    ScheduleSession,
    SessionView,
    UpdateCourse,
    UpdateSession,
)
from shared.contracts.courses.api.education import (
    AnswerEducationRequest,
    EducationRequestView,
    GetEducationRequest,
    ListEducationRequests,
    ReleaseReservation,
    RequestTailoredEducation,
)
from shared.contracts.courses.api.enrolments import (
    CancelEnrolment,
    EnrolmentView,
    EnrolParticipant,
    GetEnrolment,
    ListEnrolments,
    RecordAttendance,
    RecordRegister,
    RegisterView,
)
from shared.contracts.courses.api.public import (
    OpenRegistration,
    PublicCalendar,
    PublicCalendarView,
    RegisterResident,
    RegistrationReceived,
    RegistrationView,
    TakeRegistrationStep,
)
from shared.contracts.courses.api.purchasing_operations import PURCHASING_READERS
from shared.contracts.courses.api.residents import (
    EraseResidentData,
    ExportResidentData,
    ListSessionResidents,
    ResidentErased,
    ResidentExport,
    SessionResidents,
)
from shared.contracts.courses.api.statistics import (
    CoursesPartnerActs,
    CoursesStatistics,
    GetCoursesPartnerActs,
    GetCoursesStatistics,
)
from shared.contracts.referrals.api.participant_data import RotateEncryption, RotationResult
from shared.contracts.vocabulary import Page
from shared.operations import EVERYONE, Operations
from shared.tenancy import Role

COURSES = Operations("courses")

# Who may ask: staff and partners offer courses (operators too); libraries and the municipality read the figures
# (as they read purchasing). Purchasing, budgets and a partner's quotes: purchasing_operations.py.
OFFERERS = (Role.STAFF, Role.PARTNER, Role.OPERATOR)

# --- the offer: courses and their sessions
CREATE_COURSE = COURSES.declare(
    "create_course",
    CreateCourse,
    CourseView,
    EVERYONE,
    "Offer a course (a draft until published): staff for their library, partners their own",
)
UPDATE_COURSE = COURSES.declare(
    "update_course",
    UpdateCourse,
    CourseView,
    OFFERERS,
    "Change a course (fields left out stay); If-Match or expected_version",
)
PUBLISH_COURSE = COURSES.declare(
    "publish_course", PublishCourse, CourseView, OFFERERS, "Publish a draft into the municipality's offer"
)
CANCEL_COURSE = COURSES.declare(
    "cancel_course",
    CancelCourse,
    CourseView,
    OFFERERS,
    "Cancel a course: its sessions, places and waiting lists go with it",
)
GET_COURSE = COURSES.declare("get_course", GetCourse, CourseView, EVERYONE, "One course")
LIST_COURSES = COURSES.declare(
    "list_courses",
    ListCourses,
    Page[CourseView],
    EVERYONE,
    "The municipality's offer: every library's and partner's course, by title; filters",
)
SCHEDULE_SESSION = COURSES.declare(
    "schedule_session", ScheduleSession, SessionView, OFFERERS, "Schedule a session: its meetings, place and capacity"
)
UPDATE_SESSION = COURSES.declare(
    "update_session",
    UpdateSession,
    SessionView,
    OFFERERS,
    "Change a session's meetings, place or capacity (more moves the list up)",
)
CANCEL_SESSION = COURSES.declare(
    "cancel_session", CancelSession, SessionView, OFFERERS, "Cancel a session with its enrolments"
)
GET_SESSION = COURSES.declare(
    "get_session", GetSession, SessionView, EVERYONE, "One session, with its places and waiting list"
)
LIST_SESSIONS = COURSES.declare(
    "list_sessions",
    ListSessions,
    Page[SessionView],
    EVERYONE,
    "The municipality's course calendar: sessions by start; places free, dates, library",
)

# --- enrolment
ENROL = COURSES.declare(
    "enrol",
    EnrolParticipant,
    EnrolmentView,
    OFFERERS,
    "Enrol a participant by pseudonym or from a referral: a place, or the end of the waiting list",
)
CANCEL_ENROLMENT = COURSES.declare(
    "cancel_enrolment",
    CancelEnrolment,
    EnrolmentView,
    OFFERERS,
    "Cancel an enrolment; a place freed goes to the first on the waiting list",
)
RECORD_ATTENDANCE = COURSES.declare(
    "record_attendance", RecordAttendance, EnrolmentView, OFFERERS, "Record presence at one of the meetings"
)
RECORD_REGISTER = COURSES.declare(
    "record_register",
    RecordRegister,
    RegisterView,
    OFFERERS,
    "Record a meeting's whole register in one go: everyone's presence, or on any problem nobody's",
)
GET_ENROLMENT = COURSES.declare(
    "get_enrolment",
    GetEnrolment,
    EnrolmentView,
    EVERYONE,
    "One enrolment, with its place on the waiting list and attendance",
)
LIST_ENROLMENTS = COURSES.declare(
    "list_enrolments",
    ListEnrolments,
    Page[EnrolmentView],
    EVERYONE,
    "Enrolments the caller may see: by session, course, referral or pseudonym",
)

COURSES_STATISTICS = COURSES.declare(
    "statistics",
    GetCoursesStatistics,
    CoursesStatistics,
    PURCHASING_READERS,
    "The courses and purchasing part of the municipality's overview",
)
COURSES_PARTNER_ACTS = COURSES.declare(
    "partner_acts",
    GetCoursesPartnerActs,
    CoursesPartnerActs,
    PURCHASING_READERS,
    "Per partner over a period: courses it ran in libraries, requests for tailored education and outcome",
)

COURSES_ANNUAL_FIGURES = COURSES.declare(
    "annual_figures",
    GetAnnualCourseFigures,
    AnnualCourseFigures,
    PURCHASING_READERS,
    "The courses and purchasing part of the municipality's annual report",
)

# The public calendar (issue 22): the gateway asks for residents, who sign in nowhere, as the least actor there is
# (gateway/calendar.py). The use cases authorise by the municipality asked for and by the registration's link.
RESIDENTS = (Role.PARTNER,)

PUBLIC_CALENDAR = COURSES.declare(
    "public_calendar",
    PublicCalendar,
    PublicCalendarView,
    RESIDENTS,
    "The municipality's published sessions to come for residents, with free places and waiting lists",
)
REGISTER_RESIDENT = COURSES.declare(
    "register_resident",
    RegisterResident,
    RegistrationReceived,
    RESIDENTS,
    "A resident signs up for a session; a link to confirm goes to their e-mail address",
)
OPEN_REGISTRATION = COURSES.declare(
    "open_registration",
    OpenRegistration,
    RegistrationView,
    RESIDENTS,
    "Where a resident's registration stands, by the link from their e-mail",
)
TAKE_REGISTRATION_STEP = COURSES.declare(
    "take_registration_step",
    TakeRegistrationStep,
    RegistrationView,
    RESIDENTS,
    "Confirm, accept an offered place, cancel or erase, by the link from the resident's e-mail",
)
EXPORT_RESIDENT_DATA = COURSES.declare(
    "export_resident_data",
    ExportResidentData,
    ResidentExport,
    RESIDENTS,
    "Everything held about a resident's registration and who read it, by the link from their e-mail",
)
# Residents' personal data for those who run the course (issue 22): the service decides how much each sees.
LIST_SESSION_RESIDENTS = COURSES.declare(
    "list_session_residents",
    ListSessionResidents,
    SessionResidents,
    (Role.STAFF, Role.PARTNER),
    "A session's residents by name (and for the library's staff how to reach them); each read is logged",
)
ERASE_RESIDENT_DATA = COURSES.declare(
    "erase_resident_data",
    EraseResidentData,
    ResidentErased,
    (Role.STAFF,),
    "The library's staff erase a resident's name and address on their request (the place is given up)",
)
ROTATE_ENCRYPTION = COURSES.declare(
    "rotate_encryption",
    RotateEncryption,
    RotationResult,
    (Role.OPERATOR,),
    "Re-seal residents' personal data with the newest key (operators)",
)

# --- tailored education (maatwerkeducatie, issue 24): a referrer asks, the library plans a course or declines
REQUEST_TAILORED_EDUCATION = COURSES.declare(
    "request_tailored_education",
    RequestTailoredEducation,
    EducationRequestView,
    (Role.PARTNER,),
    "A referrer asks a library it partners with as referrer for a course for a group of its clients",
)
ANSWER_EDUCATION_REQUEST = COURSES.declare(
    "answer_education_request",
    AnswerEducationRequest,
    EducationRequestView,
    (Role.STAFF,),
    "The library plans a course of its own for the request (places reserved for the referrer) or declines",
)
RELEASE_RESERVATION = COURSES.declare(
    "release_reservation",
    ReleaseReservation,
    EducationRequestView,
    (Role.PARTNER,),
    "The referrer needs its kept places no more: the unused ones go to the course's waiting lists",
)
GET_EDUCATION_REQUEST = COURSES.declare(
    "get_education_request",
    GetEducationRequest,
    EducationRequestView,
    (Role.STAFF, Role.PARTNER, Role.COORDINATOR, Role.OPERATOR),
    "One request for tailored education",
)
LIST_EDUCATION_REQUESTS = COURSES.declare(
    "list_education_requests",
    ListEducationRequests,
    Page[EducationRequestView],
    (Role.STAFF, Role.PARTNER, Role.COORDINATOR, Role.OPERATOR),
    "Requests for tailored education in scope: the library's, the municipality's, a referrer's own",
)
CHECK_COURSE_TASK = COURSES.declare(
    "check_course_task",
    CheckCourseTask,
    CourseView,
    (Role.STAFF,),
    "The hosting library ticks off a task for a partner's course (room booked, promotion, recruitment)",
)
