"""NATS operations, event subscribers and the periodic jobs of the referrals service: wiring only."""

from __future__ import annotations

from functools import partial

from services.referrals import store
from services.referrals.blind_index import BlindIndex
from services.referrals.commands import (
    deadlines,
    duplicates,
    lifecycle,
    participant_page,
    policy,
    privacy,
    submission,
)
from services.referrals.participant_codes import CodeHasher
from services.referrals.queries import duplicates as duplicate_queries
from services.referrals.queries import lists, participant_view, referral, statistics
from services.referrals.queries import policy as policy_queries
from services.referrals.store import ParticipantVault
from shared.contracts.courses.events import EnrolmentConfirmed
from shared.contracts.partners.events import (
    LibraryRegistered,
)
from shared.contracts.referrals.api.duplicates import DecideDuplicate, ListDuplicateWarnings
from shared.contracts.referrals.api.participant_data import (
    EraseParticipantData,
    ExportParticipantData,
    ListAccessLog,
    RotateEncryption,
)
from shared.contracts.referrals.api.participant_page import (
    HandleChangeRequest,
    IssueParticipantCode,
    ListChangeRequests,
    OpenParticipantPage,
    RequestParticipantChange,
    RevokeParticipantCode,
)
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    GetReferral,
    GetReferralPolicy,
    ListReferrals,
    PlanIntake,
    RecordNoShow,
    ReferralStep,
    SetReferralPolicy,
    SubmitReferral,
    WithdrawReferral,
)
from shared.contracts.referrals.api.statistics import GetReferralsOverviewStatistics, GetReferralStatistics
from shared.service import ServiceRuntime

DEADLINE_SWEEP_SECONDS = 60.0


def register(runtime: ServiceRuntime, vault: ParticipantVault) -> None:
    work = runtime.unit_of_work
    index = BlindIndex(runtime.settings.blind_index_key)
    runtime.answer("submit", SubmitReferral, partial(submission.submit_referral, work, vault, duplicates=index))
    runtime.answer("get", GetReferral, partial(referral.get_referral, work, vault))
    runtime.answer("list", ListReferrals, partial(lists.list_referrals, work))
    runtime.answer("statistics", GetReferralStatistics, partial(statistics.statistics, work))
    runtime.answer("overview_statistics", GetReferralsOverviewStatistics, partial(statistics.overview_statistics, work))

    runtime.answer("accept", ReferralStep[AcceptReferral], partial(lifecycle.accept_referral, work))
    runtime.answer("decline", ReferralStep[DeclineReferral], partial(lifecycle.decline_referral, work))
    runtime.answer("plan_intake", ReferralStep[PlanIntake], partial(lifecycle.plan_intake, work))
    runtime.answer("complete", ReferralStep[CompleteReferral], partial(lifecycle.complete_referral, work))
    runtime.answer("withdraw", ReferralStep[WithdrawReferral], partial(lifecycle.withdraw_referral, work))
    runtime.answer("record_no_show", ReferralStep[RecordNoShow], partial(lifecycle.record_no_show, work))

    runtime.answer("access_log", ListAccessLog, partial(lists.list_access_log, work))
    runtime.answer("export", ExportParticipantData, partial(privacy.export_participant_data, work, vault))
    runtime.answer("erase", EraseParticipantData, partial(privacy.erase_participant_data, work))
    runtime.answer("rotate_encryption", RotateEncryption, partial(privacy.rotate_encryption, work, vault))

    runtime.answer("get_policy", GetReferralPolicy, partial(policy_queries.get_policy, work))
    runtime.answer("set_policy", SetReferralPolicy, partial(policy.set_policy, work))

    runtime.answer("list_duplicates", ListDuplicateWarnings, partial(duplicate_queries.list_duplicates, work))
    runtime.answer("decide_duplicate", DecideDuplicate, partial(duplicates.decide_duplicate, work))

    codes = CodeHasher(runtime.settings.pseudonym_key)
    runtime.answer(
        "issue_participant_code", IssueParticipantCode, partial(participant_page.issue_participant_code, work, codes)
    )
    runtime.answer(
        "revoke_participant_code", RevokeParticipantCode, partial(participant_page.revoke_participant_code, work)
    )
    runtime.answer(
        "open_participant_page", OpenParticipantPage, partial(participant_view.open_participant_page, work, codes)
    )
    runtime.answer(
        "request_participant_change",
        RequestParticipantChange,
        partial(participant_page.request_participant_change, work, codes),
    )
    runtime.answer("list_change_requests", ListChangeRequests, partial(participant_view.list_change_requests, work))
    runtime.answer("handle_change_request", HandleChangeRequest, partial(participant_page.handle_change_request, work))

    store.known.subscribe(runtime)  # libraries, partners and their status (shared/known_parties.py)
    runtime.consume("enrolments", EnrolmentConfirmed, lifecycle.record_enrolment)
    runtime.consume("library-names", LibraryRegistered, participant_page.remember_library_name)

    runtime.every(DEADLINE_SWEEP_SECONDS, "referral-deadlines", partial(deadlines.run_deadlines, work))
    runtime.every(DEADLINE_SWEEP_SECONDS, "forget-closed-digests", partial(duplicates.forget_closed_referrals, work))
