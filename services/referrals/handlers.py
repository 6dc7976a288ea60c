"""NATS operations and event subscribers of the referrals service: decode, check, call one use case."""

from __future__ import annotations

from functools import partial

from services.referrals import commands, queries
from services.referrals.store import ParticipantVault
from shared.contracts.partners import LibraryRegistered, PartnerRegistered
from shared.contracts.referrals import GetReferral, SubmitReferral
from shared.service import ServiceRuntime


def register(runtime: ServiceRuntime, vault: ParticipantVault) -> None:
    work = runtime.unit_of_work
    runtime.answer("submit", SubmitReferral, partial(commands.submit_referral, work, vault))
    runtime.answer("get", GetReferral, partial(queries.get_referral, work, vault))
    runtime.consume("known-libraries", LibraryRegistered, commands.remember_library)
    runtime.consume("known-partners", PartnerRegistered, commands.remember_partner)
