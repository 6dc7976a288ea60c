"""Every operation the courses service answers (`rpc.courses.<name>`): its request, its reply, who may call it.

The service binds a use case to each (services/courses/handlers.py); the gateway calls them by these names.
Roles are the ones that may ask at all; the use case still checks the actor's library, municipality or partner
(and answers what lies outside it as not found).
"""

from __future__ import annotations

from shared.contracts.courses.api.annual import AnnualCourseFigures, GetAnnualCourseFigures
from shared.contracts.courses.api.budgets import (
    AppointBudgetHolder,
    BudgetHolderChange,
    BudgetHolderView,
    BudgetView,
    GetBudget,
    GetPurchasingPolicy,
    ListBudgetHolderChanges,
    ListBudgetHolders,
    ListBudgets,
    PurchasingPolicyView,
    RemoveBudgetHolder,
    Removed,
    SetBudget,
    SetPurchasingPolicy,
)
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
    ProviderPurchaseView,
    PurchaseView,
    RecordDelivery,
    RecordInvoice,
    RefuseInvoice,
    RejectPurchase,
    RequestPurchase,
    SubmitQuote,
)
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
from shared.operations import Operations
from shared.tenancy import Role

COURSES = Operations("courses")

# Who may ask: staff and partners offer courses (operators too); the library's staff buy, its budget holders
# among them approve; libraries and the municipality read purchasing, an invited partner its own side of it.
OFFERERS = (Role.STAFF, Role.PARTNER, Role.OPERATOR)
BUYERS = (Role.STAFF, Role.OPERATOR)
BUDGET_HOLDERS = (Role.STAFF,)
PURCHASING_READERS = (Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
HOLDER_KEEPERS = (Role.STAFF, Role.COORDINATOR, Role.OPERATOR)
PROVIDERS = (Role.PARTNER,)

# --- the offer: courses and their sessions
CREATE_COURSE = COURSES.declare(
    "create_course",
    CreateCourse,
    CourseView,
    summary="Offer a course (a draft until published): staff for their library, partners their own",
)
UPDATE_COURSE = COURSES.declare(
    "update_course",
    UpdateCourse,
    CourseView,
    roles=OFFERERS,
    summary="Change a course (fields left out stay); If-Match or expected_version",
)
PUBLISH_COURSE = COURSES.declare(
    "publish_course",
    PublishCourse,
    CourseView,
    roles=OFFERERS,
    summary="Publish a draft into the municipality's offer",
)
CANCEL_COURSE = COURSES.declare(
    "cancel_course",
    CancelCourse,
    CourseView,
    roles=OFFERERS,
    summary="Cancel a course: its sessions, places and waiting lists go with it",
)
GET_COURSE = COURSES.declare("get_course", GetCourse, CourseView, summary="One course")
LIST_COURSES = COURSES.declare(
    "list_courses",
    ListCourses,
    Page[CourseView],
    summary="The municipality's offer: every library's and partner's course, by title; filters",
)
SCHEDULE_SESSION = COURSES.declare(
    "schedule_session",
    ScheduleSession,
    SessionView,
    roles=OFFERERS,
    summary="Schedule a session: its meetings, place and capacity",
)
UPDATE_SESSION = COURSES.declare(
    "update_session",
    UpdateSession,
    SessionView,
    roles=OFFERERS,
    summary="Change a session's meetings, place or capacity (more moves the list up)",
)
CANCEL_SESSION = COURSES.declare(
    "cancel_session",
    CancelSession,
    SessionView,
    roles=OFFERERS,
    summary="Cancel a session with its enrolments",
)
GET_SESSION = COURSES.declare(
    "get_session", GetSession, SessionView, summary="One session, with its places and waiting list"
)
LIST_SESSIONS = COURSES.declare(
    "list_sessions",
    ListSessions,
    Page[SessionView],
    summary="The municipality's course calendar: sessions by start; places free, dates, library",
)

# --- enrolment
ENROL = COURSES.declare(
    "enrol",
    EnrolParticipant,
    EnrolmentView,
    roles=OFFERERS,
    summary="Enrol a participant by pseudonym or from a referral: a place, or the end of the waiting list",
)
CANCEL_ENROLMENT = COURSES.declare(
    "cancel_enrolment",
    CancelEnrolment,
    EnrolmentView,
    roles=OFFERERS,
    summary="Cancel an enrolment; a place freed goes to the first on the waiting list",
)
RECORD_ATTENDANCE = COURSES.declare(
    "record_attendance",
    RecordAttendance,
    EnrolmentView,
    roles=OFFERERS,
    summary="Record presence at one of the meetings",
)
RECORD_REGISTER = COURSES.declare(
    "record_register",
    RecordRegister,
    RegisterView,
    roles=OFFERERS,
    summary="Record a meeting's whole register in one go: everyone's presence, or on any problem nobody's",
)
GET_ENROLMENT = COURSES.declare(
    "get_enrolment",
    GetEnrolment,
    EnrolmentView,
    summary="One enrolment, with its place on the waiting list and attendance",
)
LIST_ENROLMENTS = COURSES.declare(
    "list_enrolments",
    ListEnrolments,
    Page[EnrolmentView],
    summary="Enrolments the caller may see: by session, course, referral or pseudonym",
)

# --- purchasing: a purchase and its steps
REQUEST_PURCHASE = COURSES.declare(
    "request_purchase",
    RequestPurchase,
    PurchaseView,
    roles=BUYERS,
    summary="Request a purchase (a programme for staff and volunteers); checked against the budget",
)
ADD_QUOTE = COURSES.declare("add_quote", AddQuote, PurchaseView, roles=BUYERS, summary="Add a provider's quote")
APPROVE_PURCHASE = COURSES.declare(
    "approve_purchase",
    ApprovePurchase,
    PurchaseView,
    roles=BUDGET_HOLDERS,
    summary="Approve a quote (budget holders); above the threshold a second, different holder completes it",
)
REJECT_PURCHASE = COURSES.declare(
    "reject_purchase",
    RejectPurchase,
    PurchaseView,
    roles=BUDGET_HOLDERS,
    summary="Reject a purchase (budget holders)",
)
CANCEL_PURCHASE = COURSES.declare(
    "cancel_purchase",
    CancelPurchase,
    PurchaseView,
    roles=BUYERS,
    summary="Cancel before ordering; a commitment is released",
)
ORDER_PURCHASE = COURSES.declare(
    "order_purchase", OrderPurchase, PurchaseView, roles=BUYERS, summary="Order an approved purchase"
)
RECORD_DELIVERY = COURSES.declare(
    "record_delivery",
    RecordDelivery,
    PurchaseView,
    roles=BUYERS,
    summary="Record delivery: sessions held, participants",
)
RECORD_INVOICE = COURSES.declare(
    "record_invoice",
    RecordInvoice,
    PurchaseView,
    roles=BUYERS,
    summary="Record the invoice: the commitment becomes spent",
)
APPROVE_INVOICE = COURSES.declare(
    "approve_invoice",
    ApproveInvoice,
    PurchaseView,
    roles=BUDGET_HOLDERS,
    summary="Approve the difference of an invoice above the approved amount (budget holders; two above the "
    "threshold); the last approval books the invoice",
)
REFUSE_INVOICE = COURSES.declare(
    "refuse_invoice",
    RefuseInvoice,
    PurchaseView,
    roles=BUDGET_HOLDERS,
    summary="Refuse an invoice above the approved amount (budget holders): back to delivered",
)
INVITE_PARTNER = COURSES.declare(
    "invite_partner",
    InvitePartner,
    PurchaseView,
    roles=BUYERS,
    summary="Invite a partner of the municipality to submit its own quote",
)
CLOSE_PURCHASE = COURSES.declare(
    "close_purchase", ClosePurchase, PurchaseView, roles=BUYERS, summary="Close an invoiced purchase"
)
GET_PURCHASE = COURSES.declare(
    "get_purchase",
    GetPurchase,
    PurchaseView,
    roles=PURCHASING_READERS,
    summary="One purchase with its quotes, approvals and history",
)
LIST_PURCHASES = COURSES.declare(
    "list_purchases",
    ListPurchases,
    Page[PurchaseView],
    roles=PURCHASING_READERS,
    summary="Purchases the caller may see, newest first",
)

# --- a partner's side: the purchases it was invited to quote for, its own quotes
SUBMIT_QUOTE = COURSES.declare(
    "submit_quote",
    SubmitQuote,
    ProviderPurchaseView,
    roles=PROVIDERS,
    summary="Submit the partner's own quote for a purchase it was invited to",
)
GET_PROVIDER_PURCHASE = COURSES.declare(
    "get_provider_purchase",
    GetProviderPurchase,
    ProviderPurchaseView,
    roles=PROVIDERS,
    summary="One purchase as the invited partner sees it: its quotes, and its order, delivery and invoice",
)
LIST_PROVIDER_PURCHASES = COURSES.declare(
    "list_provider_purchases",
    ListProviderPurchases,
    Page[ProviderPurchaseView],
    roles=PROVIDERS,
    summary="Purchases the partner was invited to quote for, newest first (the partner itself)",
)

# --- budgets, budget holders and the second-approver threshold
SET_BUDGET = COURSES.declare(
    "set_budget",
    SetBudget,
    BudgetView,
    roles=BUYERS,
    summary="Set a library's budget of a year (its budget holders)",
)
GET_BUDGET = COURSES.declare(
    "get_budget",
    GetBudget,
    BudgetView,
    roles=PURCHASING_READERS,
    summary="A library's budget of a year (zeros while none is set)",
)
LIST_BUDGETS = COURSES.declare(
    "list_budgets",
    ListBudgets,
    Page[BudgetView],
    roles=PURCHASING_READERS,
    summary="Budgets per library and year: amount, committed, spent, available",
)
APPOINT_BUDGET_HOLDER = COURSES.declare(
    "appoint_budget_holder",
    AppointBudgetHolder,
    BudgetHolderView,
    roles=HOLDER_KEEPERS,
    summary="Appoint a budget holder (the municipality's coordinator or a budget holder of the library)",
)
REMOVE_BUDGET_HOLDER = COURSES.declare(
    "remove_budget_holder",
    RemoveBudgetHolder,
    Removed,
    roles=HOLDER_KEEPERS,
    summary="Remove a budget holder (the municipality's coordinator or a budget holder)",
)
LIST_BUDGET_HOLDERS = COURSES.declare(
    "list_budget_holders",
    ListBudgetHolders,
    Page[BudgetHolderView],
    roles=PURCHASING_READERS,
    summary="Who may approve the library's purchases",
)
LIST_BUDGET_HOLDER_CHANGES = COURSES.declare(
    "list_budget_holder_changes",
    ListBudgetHolderChanges,
    Page[BudgetHolderChange],
    roles=PURCHASING_READERS,
    summary="Who appointed and removed the library's budget holders, oldest first",
)
SET_PURCHASING_POLICY = COURSES.declare(
    "set_purchasing_policy",
    SetPurchasingPolicy,
    PurchasingPolicyView,
    roles=BUYERS,
    summary="Set the second-approver threshold (the library's budget holders)",
)
GET_PURCHASING_POLICY = COURSES.declare(
    "get_purchasing_policy",
    GetPurchasingPolicy,
    PurchasingPolicyView,
    roles=PURCHASING_READERS,
    summary="Above which amount a purchase needs a second approver (a default until set)",
)

COURSES_STATISTICS = COURSES.declare(
    "statistics",
    GetCoursesStatistics,
    CoursesStatistics,
    roles=PURCHASING_READERS,
    summary="The courses and purchasing part of the municipality's overview",
)
COURSES_PARTNER_ACTS = COURSES.declare(
    "partner_acts",
    GetCoursesPartnerActs,
    CoursesPartnerActs,
    roles=PURCHASING_READERS,
    summary="Per partner over a period: courses it ran in libraries, requests for tailored education and outcome",
)

COURSES_ANNUAL_FIGURES = COURSES.declare(
    "annual_figures",
    GetAnnualCourseFigures,
    AnnualCourseFigures,
    roles=PURCHASING_READERS,
    summary="The courses and purchasing part of the municipality's annual report",
)

# The public calendar (issue 22): the gateway asks for residents, who sign in nowhere, as the least actor there is
# (gateway/calendar.py). The use cases authorise by the municipality asked for and by the registration's link.
RESIDENTS = (Role.PARTNER,)

PUBLIC_CALENDAR = COURSES.declare(
    "public_calendar",
    PublicCalendar,
    PublicCalendarView,
    roles=RESIDENTS,
    summary="The municipality's published sessions to come for residents, with free places and waiting lists",
)
REGISTER_RESIDENT = COURSES.declare(
    "register_resident",
    RegisterResident,
    RegistrationReceived,
    roles=RESIDENTS,
    summary="A resident signs up for a session; a link to confirm goes to their e-mail address",
)
OPEN_REGISTRATION = COURSES.declare(
    "open_registration",
    OpenRegistration,
    RegistrationView,
    roles=RESIDENTS,
    summary="Where a resident's registration stands, by the link from their e-mail",
)
TAKE_REGISTRATION_STEP = COURSES.declare(
    "take_registration_step",
    TakeRegistrationStep,
    RegistrationView,
    roles=RESIDENTS,
    summary="Confirm, accept an offered place, cancel or erase, by the link from the resident's e-mail",
)
EXPORT_RESIDENT_DATA = COURSES.declare(
    "export_resident_data",
    ExportResidentData,
    ResidentExport,
    roles=RESIDENTS,
    summary="Everything held about a resident's registration and who read it, by the link from their e-mail",
)
# Residents' personal data for those who run the course (issue 22): the service decides how much each sees.
LIST_SESSION_RESIDENTS = COURSES.declare(
    "list_session_residents",
    ListSessionResidents,
    SessionResidents,
    roles=(Role.STAFF, Role.PARTNER),
    summary="A session's residents by name (and for the library's staff how to reach them); each read is logged",
)
ERASE_RESIDENT_DATA = COURSES.declare(
    "erase_resident_data",
    EraseResidentData,
    ResidentErased,
    roles=(Role.STAFF,),
    summary="The library's staff erase a resident's name and address on their request (the place is given up)",
)
ROTATE_ENCRYPTION = COURSES.declare(
    "rotate_encryption",
    RotateEncryption,
    RotationResult,
    roles=(Role.OPERATOR,),
    summary="Re-seal residents' personal data with the newest key (operators)",
)

# --- tailored education (maatwerkeducatie, issue 24): a referrer asks, the library plans a course or declines
REQUEST_TAILORED_EDUCATION = COURSES.declare(
    "request_tailored_education",
    RequestTailoredEducation,
    EducationRequestView,
    roles=(Role.PARTNER,),
    summary="A referrer asks a library it partners with as referrer for a course for a group of its clients",
)
ANSWER_EDUCATION_REQUEST = COURSES.declare(
    "answer_education_request",
    AnswerEducationRequest,
    EducationRequestView,
    roles=(Role.STAFF,),
    summary="The library plans a course of its own for the request (places reserved for the referrer) or declines",
)
RELEASE_RESERVATION = COURSES.declare(
    "release_reservation",
    ReleaseReservation,
    EducationRequestView,
    roles=(Role.PARTNER,),
    summary="The referrer needs its kept places no more: the unused ones go to the course's waiting lists",
)
GET_EDUCATION_REQUEST = COURSES.declare(
    "get_education_request",
    GetEducationRequest,
    EducationRequestView,
    roles=(Role.STAFF, Role.PARTNER, Role.COORDINATOR, Role.OPERATOR),
    summary="One request for tailored education",
)
LIST_EDUCATION_REQUESTS = COURSES.declare(
    "list_education_requests",
    ListEducationRequests,
    Page[EducationRequestView],
    roles=(Role.STAFF, Role.PARTNER, Role.COORDINATOR, Role.OPERATOR),
    summary="Requests for tailored education in scope: the library's, the municipality's, a referrer's own",
)
CHECK_COURSE_TASK = COURSES.declare(
    "check_course_task",
    CheckCourseTask,
    CourseView,
    roles=(Role.STAFF,),
    summary="The hosting library ticks off a task for a partner's course (room booked, promotion, recruitment)",
)
