"""NATS operations and event subscribers of the partners service: decode, check, call one use case."""

from __future__ import annotations

from functools import partial

from services.partners import commands, queries
from shared.contracts.partners import (
    GetFeed,
    GetPartner,
    ListPartners,
    RegisterLibrary,
    RegisterMunicipality,
    RegisterPartner,
)
from shared.contracts.referrals import ReferralSubmitted
from shared.service import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    work = runtime.unit_of_work
    runtime.answer("register_municipality", RegisterMunicipality, partial(commands.register_municipality, work))
    runtime.answer("register_library", RegisterLibrary, partial(commands.register_library, work))
    runtime.answer("register_partner", RegisterPartner, partial(commands.register_partner, work))
    runtime.answer("get_partner", GetPartner, partial(queries.get_partner, work))
    runtime.answer("list_partners", ListPartners, partial(queries.list_partners, work))
    runtime.answer("get_feed", GetFeed, partial(queries.get_feed, work))
    runtime.consume("referral-feed", ReferralSubmitted, commands.add_referral_to_feed)
