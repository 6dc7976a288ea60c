"""NATS operations, event subscribers and the periodic deadline job of the referrals service: wiring only."""

from __future__ import annotations

from functools import partial

from services.referrals.commands import deadlines, lifecycle, policy, privacy, projections, submission
from services.referrals.queries import lists, referral, statistics
from services.referrals.queries import policy as policy_queries
from services.referrals.store import ParticipantVault
from shared.contracts.courses import EnrolmentConfirmed
from shared.contracts.partners import (
    LibraryRegistered,
    PartnerEnded,
    PartnerReactivated,
    PartnerRegistered,
    PartnerSuspended,
)
from shared.contracts.referrals import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    EraseParticipantData,
    ExportParticipantData,
    GetReferral,
    GetReferralPolicy,
    GetReferralsOverviewStatistics,
    GetReferralStatistics,
    ListAccessLog,
    ListReferrals,
    PlanIntake,
    RecordNoShow,
    ReferralStep,
    RotateEncryption,
    SetReferralPolicy,
    SubmitReferral,
    WithdrawReferral,
)
from shared.service import ServiceRuntime

DEADLINE_SWEEP_SECONDS = 60.0


def register(runtime: ServiceRuntime, vault: ParticipantVault) -> None:
    work = runtime.unit_of_work
    runtime.answer("submit", SubmitReferral, partial(submission.submit_referral, work, vault))
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

    runtime.consume("known-libraries", LibraryRegistered, projections.remember_library)
    runtime.consume("known-partners", PartnerRegistered, projections.remember_partner)
    runtime.consume("partner-suspended", PartnerSuspended, projections.partner_suspended)
    runtime.consume("partner-reactivated", PartnerReactivated, projections.partner_reactivated)
    runtime.consume("partner-ended", PartnerEnded, projections.partner_ended)
    runtime.consume("enrolments", EnrolmentConfirmed, lifecycle.record_enrolment)

    runtime.every(DEADLINE_SWEEP_SECONDS, "referral-deadlines", partial(deadlines.run_deadlines, work))
