"""Every operation the referrals service answers (`rpc.referrals.<name>`): its request, its reply, who may call it.

The service binds a use case to each (services/referrals/handlers.py); the gateway calls them by these names.
Roles are the ones that may ask at all; the use case still checks the actor's library or partner.
"""

from __future__ import annotations

from shared.contracts.referrals.api.agreements import (
    EndReferralAgreement,
    ListReferralAgreements,
    ListReferralCounterparts,
    RecordReferralAgreement,
    ReferralAgreementView,
    ReferralCounterpart,
)
from shared.contracts.referrals.api.annual import AnnualReferralFigures, GetAnnualReferralFigures
from shared.contracts.referrals.api.duplicates import DecideDuplicate, DuplicateWarningView, ListDuplicateWarnings
from shared.contracts.referrals.api.participant_data import (
    AccessLogEntry,
    EraseParticipantData,
    ExportParticipantData,
    ListAccessLog,
    ParticipantExport,
    RotateEncryption,
    RotationResult,
)
from shared.contracts.referrals.api.participant_page import (
    ChangeRequestView,
    HandleChangeRequest,
    IssueParticipantCode,
    ListChangeRequests,
    OpenParticipantPage,
    ParticipantChangeRecorded,
    ParticipantCodeIssued,
    ParticipantCodeRevoked,
    ParticipantPage,
    RequestParticipantChange,
    RevokeParticipantCode,
)
from shared.contracts.referrals.api.person import (
    AskOtherLibraries,
    OtherLibrariesAsked,
    PersonErased,
    PersonExport,
    PersonLookup,
)
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    GetReferral,
    GetReferralPolicy,
    ListReferrals,
    PlanIntake,
    RecordIntakeHeld,
    RecordNoShow,
    ReferralPolicyView,
    ReferralStep,
    ReferralSummary,
    ReferralView,
    RevokeConsent,
    SetReferralPolicy,
    SubmitReferral,
    WithdrawReferral,
)
from shared.contracts.referrals.api.statistics import (
    GetReferralsOverviewStatistics,
    GetReferralStatistics,
    ReferralsOverviewStatistics,
    ReferralStatistics,
)
from shared.contracts.vocabulary import Page
from shared.operations import EVERYONE, Operations
from shared.tenancy import Role

REFERRALS = Operations("referrals")

# Who may ask: the parties of a referral take its steps; personal data is managed by the library's staff.
PARTIES = (Role.STAFF, Role.PARTNER)
STAFF = (Role.STAFF,)
# The participant page asks as an actor of its own, in the partner role (gateway/participant.py PARTICIPANT).
PARTICIPANT_PAGE = (Role.PARTNER,)

SUBMIT_REFERRAL = REFERRALS.declare(
    "submit",
    SubmitReferral,
    ReferralView,
    (Role.OPERATOR, Role.STAFF, Role.PARTNER),
    "Submit a referral (warm, with recorded consent): partner → library or library → partner",
)
GET_REFERRAL = REFERRALS.declare(
    "get",
    GetReferral,
    ReferralView,
    EVERYONE,
    "One referral, as far as the caller may see it (reads of the person are logged)",
)
LIST_REFERRALS = REFERRALS.declare(
    "list",
    ListReferrals,
    Page[ReferralSummary],
    EVERYONE,
    "Referrals in the caller's scope: overdue first, then newest; filters and search",
)
REFERRAL_STATISTICS = REFERRALS.declare(
    "statistics",
    GetReferralStatistics,
    ReferralStatistics,
    EVERYONE,
    "Counts by status, direction, need and outcome (no personal data)",
)
REFERRALS_OVERVIEW_STATISTICS = REFERRALS.declare(
    "overview_statistics",
    GetReferralsOverviewStatistics,
    ReferralsOverviewStatistics,
    EVERYONE,
    "The referrals part of the municipality's overview",
)
REFERRALS_ANNUAL_FIGURES = REFERRALS.declare(
    "annual_figures",
    GetAnnualReferralFigures,
    AnnualReferralFigures,
    (Role.STAFF, Role.COORDINATOR, Role.OPERATOR),
    "The referrals part of the municipality's annual report",
)

ACCEPT_REFERRAL = REFERRALS.declare(
    "accept", ReferralStep[AcceptReferral], ReferralView, PARTIES, "Accept a submitted referral"
)
DECLINE_REFERRAL = REFERRALS.declare(
    "decline", ReferralStep[DeclineReferral], ReferralView, PARTIES, "Decline a submitted referral"
)
PLAN_INTAKE = REFERRALS.declare(
    "plan_intake", ReferralStep[PlanIntake], ReferralView, PARTIES, "Plan (or re-plan) the handover"
)
RECORD_INTAKE_HELD = REFERRALS.declare(
    "record_intake_held", ReferralStep[RecordIntakeHeld], ReferralView, PARTIES, "The planned intake took place"
)
COMPLETE_REFERRAL = REFERRALS.declare(
    "complete", ReferralStep[CompleteReferral], ReferralView, PARTIES, "Complete with the outcome"
)
WITHDRAW_REFERRAL = REFERRALS.declare(
    "withdraw", ReferralStep[WithdrawReferral], ReferralView, PARTIES, "Withdraw a referral"
)
RECORD_NO_SHOW = REFERRALS.declare(
    "record_no_show", ReferralStep[RecordNoShow], ReferralView, PARTIES, "The participant did not come"
)
REVOKE_CONSENT = REFERRALS.declare(
    "revoke_consent",
    ReferralStep[RevokeConsent],
    ReferralView,
    PARTIES,
    "Record that the participant withdrew consent (either side): ends every party's view of the person",
)

RECORD_REFERRAL_AGREEMENT = REFERRALS.declare(
    "record_agreement",
    RecordReferralAgreement,
    ReferralAgreementView,
    (Role.COORDINATOR, Role.OPERATOR),
    "Record a municipality-wide referral agreement with a partner (the coordinator)",
)
END_REFERRAL_AGREEMENT = REFERRALS.declare(
    "end_agreement",
    EndReferralAgreement,
    ReferralAgreementView,
    (Role.COORDINATOR, Role.OPERATOR),
    "End a municipality-wide referral agreement: no new referrals under it, pseudonyms only",
)
LIST_REFERRAL_AGREEMENTS = REFERRALS.declare(
    "list_agreements",
    ListReferralAgreements,
    Page[ReferralAgreementView],
    (Role.COORDINATOR, Role.STAFF, Role.OPERATOR),
    "The municipality's referral agreements with partners",
)
LIST_REFERRAL_COUNTERPARTS = REFERRALS.declare(
    "list_counterparts",
    ListReferralCounterparts,
    Page[ReferralCounterpart],
    (Role.STAFF, Role.PARTNER),
    "Whom the caller may refer to now, by name, a page at a time: through an active partnership or the"
    " municipality's agreement",
)

LIST_ACCESS_LOG = REFERRALS.declare(
    "access_log",
    ListAccessLog,
    Page[AccessLogEntry],
    STAFF,
    "Who read participants' personal data in the caller's library (staff)",
)
EXPORT_PARTICIPANT_DATA = REFERRALS.declare(
    "export",
    ExportParticipantData,
    ParticipantExport,
    STAFF,
    "Everything held about the participant (right of access; staff)",
)
ERASE_PARTICIPANT_DATA = REFERRALS.declare(
    "erase", EraseParticipantData, ReferralView, STAFF, "Erase the participant's personal data (staff)"
)
EXPORT_PERSON = REFERRALS.declare(
    "export_person",
    PersonLookup,
    PersonExport,
    STAFF,
    "Everything the library holds about one person, across their referrals (right of access; staff)",
)
ERASE_PERSON = REFERRALS.declare(
    "erase_person",
    PersonLookup,
    PersonErased,
    STAFF,
    "Erase one person's personal data in all their referrals of the library (staff)",
)
ASK_OTHER_LIBRARIES = REFERRALS.declare(
    "ask_other_libraries",
    AskOtherLibraries,
    OtherLibrariesAsked,
    STAFF,
    "The person asked at the desk for their data or its erasure everywhere: ask each other library (staff)",
)
ROTATE_ENCRYPTION = REFERRALS.declare(
    "rotate_encryption",
    RotateEncryption,
    RotationResult,
    (Role.OPERATOR,),
    "Re-seal personal data with the newest key (operators)",
)

GET_REFERRAL_POLICY = REFERRALS.declare(
    "get_policy",
    GetReferralPolicy,
    ReferralPolicyView,
    (Role.STAFF, Role.COORDINATOR, Role.OPERATOR),
    "The library's response time, expiry and retention (defaults where not set)",
)
SET_REFERRAL_POLICY = REFERRALS.declare(
    "set_policy",
    SetReferralPolicy,
    ReferralPolicyView,
    (Role.STAFF, Role.OPERATOR),
    "Set the library's response time, expiry and retention (its staff)",
)

LIST_DUPLICATE_WARNINGS = REFERRALS.declare(
    "list_duplicates",
    ListDuplicateWarnings,
    Page[DuplicateWarningView],
    STAFF,
    "Possible duplicate referrals of the library",
)
DECIDE_DUPLICATE = REFERRALS.declare(
    "decide_duplicate", DecideDuplicate, DuplicateWarningView, STAFF, "Decide a possible duplicate"
)

ISSUE_PARTICIPANT_CODE = REFERRALS.declare(
    "issue_participant_code",
    IssueParticipantCode,
    ParticipantCodeIssued,
    STAFF,
    "Give a participant a personal code for their page",
)
REVOKE_PARTICIPANT_CODE = REFERRALS.declare(
    "revoke_participant_code",
    RevokeParticipantCode,
    ParticipantCodeRevoked,
    STAFF,
    "Revoke a participant's personal code",
)
OPEN_PARTICIPANT_PAGE = REFERRALS.declare(
    "open_participant_page",
    OpenParticipantPage,
    ParticipantPage,
    PARTICIPANT_PAGE,
    "What a participant sees on their page, by their code",
)
REQUEST_PARTICIPANT_CHANGE = REFERRALS.declare(
    "request_participant_change",
    RequestParticipantChange,
    ParticipantChangeRecorded,
    PARTICIPANT_PAGE,
    "A participant asks the library to call about a change",
)
LIST_CHANGE_REQUESTS = REFERRALS.declare(
    "list_change_requests",
    ListChangeRequests,
    Page[ChangeRequestView],
    STAFF,
    "Participants' change requests for the library",
)
HANDLE_CHANGE_REQUEST = REFERRALS.declare(
    "handle_change_request",
    HandleChangeRequest,
    ChangeRequestView,
    STAFF,
    "Mark a participant's change request handled",
)
