"""Referral rules: consent, who may refer to whom, and the lifecycle as a table of legal transitions. Pure."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.contracts.referrals import Consent, ReferralStatus
from shared.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.tenancy import Actor, Role


class Step(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    PLAN_INTAKE = "plan_intake"
    ENROL = "enrol"
    COMPLETE = "complete"
    WITHDRAW = "withdraw"
    MARK_NO_SHOW = "mark_no_show"
    EXPIRE = "expire"


S = ReferralStatus
TRANSITIONS: dict[tuple[ReferralStatus, Step], ReferralStatus] = {
    (S.SUBMITTED, Step.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, Step.DECLINE): S.DECLINED,
    (S.SUBMITTED, Step.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, Step.EXPIRE): S.EXPIRED,
    (S.ACCEPTED, Step.PLAN_INTAKE): S.INTAKE_PLANNED,
    (S.ACCEPTED, Step.WITHDRAW): S.WITHDRAWN,
    (S.INTAKE_PLANNED, Step.PLAN_INTAKE): S.INTAKE_PLANNED,  # a new date replaces the old one
    (S.INTAKE_PLANNED, Step.ENROL): S.ENROLLED,
    (S.INTAKE_PLANNED, Step.COMPLETE): S.COMPLETED,
    (S.INTAKE_PLANNED, Step.WITHDRAW): S.WITHDRAWN,
    (S.INTAKE_PLANNED, Step.MARK_NO_SHOW): S.NO_SHOW,
    (S.ENROLLED, Step.COMPLETE): S.COMPLETED,
    (S.ENROLLED, Step.WITHDRAW): S.WITHDRAWN,
    (S.ENROLLED, Step.MARK_NO_SHOW): S.NO_SHOW,
}


def apply_step(status: ReferralStatus, step: Step) -> ReferralStatus:
    try:
        return TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"a referral that is {status.value} cannot {step.value}", status=status.value, step=step.value
        ) from None


LOCAL_TIME = ZoneInfo("Europe/Amsterdam")  # a consent's last day is a Dutch calendar day


def check_consent(consent: Consent, now: datetime) -> None:
    """No consent, no referral: it must have been given already and still hold."""
    if consent.given_at > now:
        raise InvalidInput("consent cannot be given in the future")
    if consent.valid_until < now.astimezone(LOCAL_TIME).date():
        raise InvalidInput("consent has expired")


def check_may_submit(
    actor: Actor,
    *,
    library: str,
    library_municipality: str | None,
    referring_partner_id: UUID,
    partner_municipality: str | None,
) -> None:
    """A partner refers on its own behalf; staff record referrals for their own library.

    The role is checked before anything is looked up, and a library or partner outside the caller's
    reach answers like a missing one, so trying referrals never tells what exists elsewhere.
    """
    if actor.role is Role.PARTNER:
        if actor.partner != str(referring_partner_id):
            raise Forbidden("a partner can only submit referrals on its own behalf")
    elif actor.role is Role.STAFF:
        if actor.library != library:
            raise Forbidden(f"staff may only submit referrals to their own library, not to {library}")
    elif actor.role is not Role.OPERATOR:
        raise Forbidden(f"{actor.role.value} may not submit referrals")
    reachable = library_municipality is not None and (
        actor.role is not Role.PARTNER or actor.municipality in (None, library_municipality)
    )
    if not reachable:
        raise NotFound(f"library {library} not found")
    if partner_municipality is None or partner_municipality != library_municipality:
        raise InvalidInput(f"referring partner {referring_partner_id} is not known in the library's municipality")


def may_read(actor: Actor, *, library: str, municipality: str, referring_partner_id: UUID) -> bool:
    if actor.role is Role.PARTNER:
        return actor.partner == str(referring_partner_id)
    return actor.can_see_library(library, municipality)


def may_read_personal_data(actor: Actor, *, library: str, referring_partner_id: UUID) -> bool:
    """Only the receiving library's staff and the partner that referred (who knows the person) see who it is."""
    if actor.role is Role.STAFF:
        return actor.library == library
    return actor.role is Role.PARTNER and actor.partner == str(referring_partner_id)
