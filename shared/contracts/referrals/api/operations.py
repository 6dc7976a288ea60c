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
    ReferralCounterparts,
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
from shared.operations import Operations
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
    roles=(Role.OPERATOR, Role.STAFF, Role.PARTNER),
    summary="Submit a referral (warm, with recorded consent): partner → library or library → partner",
)
GET_REFERRAL = REFERRALS.declare(
    "get",
    GetReferral,
    ReferralView,
    summary="One referral, as far as the caller may see it (reads of the person are logged)",
)
LIST_REFERRALS = REFERRALS.declare(
    "list",
    ListReferrals,
    Page[ReferralSummary],
    summary="Referrals in the caller's scope: overdue first, then newest; filters and search",
)
REFERRAL_STATISTICS = REFERRALS.declare(
    "statistics",
    GetReferralStatistics,
    ReferralStatistics,
    summary="Counts by status, direction, need and outcome (no personal data)",
)
REFERRALS_OVERVIEW_STATISTICS = REFERRALS.declare(
    "overview_statistics",
    GetReferralsOverviewStatistics,
    ReferralsOverviewStatistics,
    summary="The referrals part of the municipality's overview",
)
REFERRALS_ANNUAL_FIGURES = REFERRALS.declare(
    "annual_figures",
    GetAnnualReferralFigures,
    AnnualReferralFigures,
    roles=(Role.STAFF, Role.COORDINATOR, Role.OPERATOR),
    summary="The referrals part of the municipality's annual report",
)

ACCEPT_REFERRAL = REFERRALS.declare(
    "accept", ReferralStep[AcceptReferral], ReferralView, roles=PARTIES, summary="Accept a submitted referral"
)
DECLINE_REFERRAL = REFERRALS.declare(
    "decline", ReferralStep[DeclineReferral], ReferralView, roles=PARTIES, summary="Decline a submitted referral"
)
PLAN_INTAKE = REFERRALS.declare(
    "plan_intake", ReferralStep[PlanIntake], ReferralView, roles=PARTIES, summary="Plan (or re-plan) the handover"
)
RECORD_INTAKE_HELD = REFERRALS.declare(
    "record_intake_held",
    ReferralStep[RecordIntakeHeld],
    ReferralView,
    roles=PARTIES,
    summary="The planned intake took place",
)
COMPLETE_REFERRAL = REFERRALS.declare(
    "complete", ReferralStep[CompleteReferral], ReferralView, roles=PARTIES, summary="Complete with the outcome"
)
WITHDRAW_REFERRAL = REFERRALS.declare(
    "withdraw", ReferralStep[WithdrawReferral], ReferralView, roles=PARTIES, summary="Withdraw a referral"
)
RECORD_NO_SHOW = REFERRALS.declare(
    "record_no_show", ReferralStep[RecordNoShow], ReferralView, roles=PARTIES, summary="The participant did not come"
)
REVOKE_CONSENT = REFERRALS.declare(
    "revoke_consent",
    ReferralStep[RevokeConsent],
    ReferralView,
    roles=PARTIES,
    summary="Record that the participant withdrew consent (either side): ends every party's view of the person",
)

RECORD_REFERRAL_AGREEMENT = REFERRALS.declare(
    "record_agreement",
    RecordReferralAgreement,
    ReferralAgreementView,
    roles=(Role.COORDINATOR, Role.OPERATOR),
    summary="Record a municipality-wide referral agreement with a partner (the coordinator)",
)
END_REFERRAL_AGREEMENT = REFERRALS.declare(
    "end_agreement",
    EndReferralAgreement,
    ReferralAgreementView,
    roles=(Role.COORDINATOR, Role.OPERATOR),
    summary="End a municipality-wide referral agreement: no new referrals under it, pseudonyms only",
)
LIST_REFERRAL_AGREEMENTS = REFERRALS.declare(
    "list_agreements",
    ListReferralAgreements,
    Page[ReferralAgreementView],
    roles=(Role.COORDINATOR, Role.STAFF, Role.OPERATOR),
    summary="The municipality's referral agreements with partners",
)
LIST_REFERRAL_COUNTERPARTS = REFERRALS.declare(
    "list_counterparts",
    ListReferralCounterparts,
    ReferralCounterparts,
    roles=(Role.STAFF, Role.PARTNER),
    summary="Whom the caller may refer to now: through an active partnership or the municipality's agreement",
)

LIST_ACCESS_LOG = REFERRALS.declare(
    "access_log",
    ListAccessLog,
    Page[AccessLogEntry],
    roles=STAFF,
    summary="Who read participants' personal data in the caller's library (staff)",
)
EXPORT_PARTICIPANT_DATA = REFERRALS.declare(
    "export",
    ExportParticipantData,
    ParticipantExport,
    roles=STAFF,
    summary="Everything held about the participant (right of access; staff)",
)
ERASE_PARTICIPANT_DATA = REFERRALS.declare(
    "erase",
    EraseParticipantData,
    ReferralView,
    roles=STAFF,
    summary="Erase the participant's personal data (staff)",
)
EXPORT_PERSON = REFERRALS.declare(
    "export_person",
    PersonLookup,
    PersonExport,
    roles=STAFF,
    summary="Everything the library holds about one person, across their referrals (right of access; staff)",
)
ERASE_PERSON = REFERRALS.declare(
    "erase_person",
    PersonLookup,
    PersonErased,
    roles=STAFF,
    summary="Erase one person's personal data in all their referrals of the library (staff)",
)
ASK_OTHER_LIBRARIES = REFERRALS.declare(
    "ask_other_libraries",
    AskOtherLibraries,
    OtherLibrariesAsked,
    roles=STAFF,
    summary="The person asked at the desk for their data or its erasure everywhere: ask each other library (staff)",
)
ROTATE_ENCRYPTION = REFERRALS.declare(
    "rotate_encryption",
    RotateEncryption,
    RotationResult,
    roles=(Role.OPERATOR,),
    summary="Re-seal personal data with the newest key (operators)",
)

GET_REFERRAL_POLICY = REFERRALS.declare(
    "get_policy",
    GetReferralPolicy,
    ReferralPolicyView,
    roles=(Role.STAFF, Role.COORDINATOR, Role.OPERATOR),
    summary="The library's response time, expiry and retention (defaults where not set)",
)
SET_REFERRAL_POLICY = REFERRALS.declare(
    "set_policy",
    SetReferralPolicy,
    ReferralPolicyView,
    roles=(Role.STAFF, Role.OPERATOR),
    summary="Set the library's response time, expiry and retention (its staff)",
)

LIST_DUPLICATE_WARNINGS = REFERRALS.declare(
    "list_duplicates",
    ListDuplicateWarnings,
    Page[DuplicateWarningView],
    roles=STAFF,
    summary="Possible duplicate referrals of the library",
)
DECIDE_DUPLICATE = REFERRALS.declare(
    "decide_duplicate",
    DecideDuplicate,
    DuplicateWarningView,
    roles=STAFF,
    summary="Decide a possible duplicate",
)

ISSUE_PARTICIPANT_CODE = REFERRALS.declare(
    "issue_participant_code",
    IssueParticipantCode,
    ParticipantCodeIssued,
    roles=STAFF,
    summary="Give a participant a personal code for their page",
)
REVOKE_PARTICIPANT_CODE = REFERRALS.declare(
    "revoke_participant_code",
    RevokeParticipantCode,
    ParticipantCodeRevoked,
    roles=STAFF,
    summary="Revoke a participant's personal code",
)
OPEN_PARTICIPANT_PAGE = REFERRALS.declare(
    "open_participant_page",
    OpenParticipantPage,
    ParticipantPage,
    roles=PARTICIPANT_PAGE,
    summary="What a participant sees on their page, by their code",
)
REQUEST_PARTICIPANT_CHANGE = REFERRALS.declare(
    "request_participant_change",
    RequestParticipantChange,
    ParticipantChangeRecorded,
    roles=PARTICIPANT_PAGE,
    summary="A participant asks the library to call about a change",
)
LIST_CHANGE_REQUESTS = REFERRALS.declare(
    "list_change_requests",
    ListChangeRequests,
    Page[ChangeRequestView],
    roles=STAFF,
    summary="Participants' change requests for the library",
)
HANDLE_CHANGE_REQUEST = REFERRALS.declare(
    "handle_change_request",
    HandleChangeRequest,
    ChangeRequestView,
    roles=STAFF,
    summary="Mark a participant's change request handled",
)
