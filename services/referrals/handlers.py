"""NATS operations, event subscribers and the periodic jobs of the referrals service: wiring only."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from services.referrals import store
from services.referrals.blind_index import BlindIndex
from services.referrals.commands import (
    agreements,
    consent,
    deadlines,
    duplicates,
    enrolments,
    figures,
    lifecycle,
    participant_page,
    person,
    policy,
    privacy,
    retention,
    submission,
)
from services.referrals.participant_codes import CodeHasher
from services.referrals.queries import access_log, annual, participant_view, referral, referral_list, statistics
from services.referrals.queries import agreements as agreement_queries
from services.referrals.queries import duplicates as duplicate_queries
from services.referrals.queries import policy as policy_queries
from services.referrals.store.personal_data import ParticipantVault
from shared.contracts.courses.events import EnrolmentConfirmed, EnrolmentWaitlisted
from shared.contracts.partners.events import (
    LibraryRegistered,
)
from shared.contracts.referrals.api import operations as ops
from shared.retention import RETENTION_SWEEP_SECONDS
from shared.service import ServiceRuntime

DEADLINE_SWEEP_SECONDS = 60.0


def register(runtime: ServiceRuntime, vault: ParticipantVault) -> None:
    work = runtime.unit_of_work
    index = BlindIndex(runtime.settings.blind_index_key)
    runtime.bind(ops.SUBMIT_REFERRAL, partial(submission.submit_referral, work, vault, duplicates=index))
    runtime.bind(ops.GET_REFERRAL, partial(referral.get_referral, work, vault))
    runtime.bind(ops.LIST_REFERRALS, partial(referral_list.list_referrals, work))
    runtime.bind(ops.REFERRAL_STATISTICS, partial(statistics.statistics, work))
    runtime.bind(ops.REFERRALS_OVERVIEW_STATISTICS, partial(statistics.overview_statistics, work))
    runtime.bind(ops.REFERRALS_ANNUAL_FIGURES, partial(annual.annual_figures, work))

    runtime.bind(ops.ACCEPT_REFERRAL, partial(lifecycle.accept_referral, work))
    runtime.bind(ops.DECLINE_REFERRAL, partial(lifecycle.decline_referral, work))
    runtime.bind(ops.PLAN_INTAKE, partial(lifecycle.plan_intake, work))
    runtime.bind(ops.RECORD_INTAKE_HELD, partial(lifecycle.record_intake_held, work))
    runtime.bind(ops.COMPLETE_REFERRAL, partial(lifecycle.complete_referral, work))
    runtime.bind(ops.WITHDRAW_REFERRAL, partial(consent.withdraw_referral, work))  # consent_withdrawn: a revocation
    runtime.bind(ops.REVOKE_CONSENT, partial(consent.revoke_consent, work))
    runtime.bind(ops.RECORD_NO_SHOW, partial(lifecycle.record_no_show, work))

    runtime.bind(ops.RECORD_REFERRAL_AGREEMENT, partial(agreements.record_agreement, work))
    runtime.bind(ops.END_REFERRAL_AGREEMENT, partial(agreements.end_agreement, work))
    runtime.bind(ops.LIST_REFERRAL_AGREEMENTS, partial(agreement_queries.list_agreements, work))
    runtime.bind(ops.LIST_REFERRAL_COUNTERPARTS, partial(agreement_queries.list_counterparts, work))

    runtime.bind(ops.LIST_ACCESS_LOG, partial(access_log.list_access_log, work))
    runtime.bind(ops.EXPORT_PARTICIPANT_DATA, partial(privacy.export_participant_data, work, vault))
    runtime.bind(ops.ERASE_PARTICIPANT_DATA, partial(privacy.erase_participant_data, work))
    runtime.bind(ops.EXPORT_PERSON, partial(person.export_person, work, vault, index))
    runtime.bind(ops.ERASE_PERSON, partial(person.erase_person, work, index))
    runtime.bind(ops.ASK_OTHER_LIBRARIES, partial(person.ask_other_libraries, work, index))
    runtime.bind(ops.ROTATE_ENCRYPTION, partial(privacy.rotate_encryption, work, vault))

    runtime.bind(ops.GET_REFERRAL_POLICY, partial(policy_queries.get_policy, work))
    runtime.bind(ops.SET_REFERRAL_POLICY, partial(policy.set_policy, work))

    runtime.bind(ops.LIST_DUPLICATE_WARNINGS, partial(duplicate_queries.list_duplicates, work))
    runtime.bind(ops.DECIDE_DUPLICATE, partial(duplicates.decide_duplicate, work))

    codes = CodeHasher(runtime.settings.pseudonym_key)
    runtime.bind(ops.ISSUE_PARTICIPANT_CODE, partial(participant_page.issue_participant_code, work, codes))
    runtime.bind(ops.REVOKE_PARTICIPANT_CODE, partial(participant_page.revoke_participant_code, work))
    runtime.bind(ops.OPEN_PARTICIPANT_PAGE, partial(participant_view.open_participant_page, work, codes, vault))
    runtime.bind(ops.REQUEST_PARTICIPANT_CHANGE, partial(participant_page.request_participant_change, work, codes))
    runtime.bind(ops.LIST_CHANGE_REQUESTS, partial(participant_view.list_change_requests, work))
    runtime.bind(ops.HANDLE_CHANGE_REQUEST, partial(participant_page.handle_change_request, work))
    runtime.require_bound(ops.REFERRALS)

    store.known.subscribe(runtime)  # libraries, partners and their status (shared/known_parties.py)
    store.known_partnership_events.subscribe(runtime)  # which partners each library partners with
    runtime.consume("enrolments", EnrolmentConfirmed, enrolments.record_enrolment)
    runtime.consume("waiting-lists", EnrolmentWaitlisted, enrolments.record_waitlisting)
    runtime.consume("library-names", LibraryRegistered, participant_page.remember_library_name)

    runtime.every(DEADLINE_SWEEP_SECONDS, "referral-deadlines", partial(deadlines.run_deadlines, work))
    runtime.every(DEADLINE_SWEEP_SECONDS, "exact-digests", person.ExactDigests(work, vault, index).run)
    trail_window = timedelta(days=runtime.settings.trail_retention_days)
    runtime.every(
        RETENTION_SWEEP_SECONDS, "trail-retention", partial(retention.prune_erased_trails, work, trail_window)
    )
    runtime.every(figures.FIGURES_FOLD_SECONDS, "figure-shards", partial(figures.fold_figure_shards, work))
