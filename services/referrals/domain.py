"""Referral rules: consent, who may refer to whom, and the lifecycle as a table of legal transitions. Pure."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

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


def check_consent(consent: Consent, now: datetime) -> None:
    """No consent, no referral: it must have been given already and still hold."""
    if consent.given_at > now:
        raise InvalidInput("consent cannot be given in the future")
    if consent.valid_until < now.date():
        raise InvalidInput("consent has expired")


def check_may_submit(
    actor: Actor,
    *,
    library: str,
    library_municipality: str | None,
    referring_partner_id: UUID,
    partner_municipality: str | None,
) -> None:
    """A partner refers on its own behalf to a library of its municipality; staff record referrals for their library."""
    if library_municipality is None:
        raise NotFound(f"library {library} not found")
    if partner_municipality is None:
        raise InvalidInput(f"referring partner {referring_partner_id} is not known")
    if partner_municipality != library_municipality:
        raise InvalidInput("the referring partner does not work in the library's municipality")
    if actor.role is Role.OPERATOR:
        return
    if actor.role is Role.PARTNER:
        if actor.partner != str(referring_partner_id):
            raise Forbidden("a partner can only submit referrals on its own behalf")
        if actor.municipality not in (None, library_municipality):
            raise NotFound(f"library {library} not found")
        return
    if actor.role is Role.STAFF and actor.library == library:
        return
    raise Forbidden(f"{actor.role.value} may not submit a referral to library {library}")


def may_read(actor: Actor, *, library: str, municipality: str, referring_partner_id: UUID) -> bool:
    if actor.role is Role.PARTNER:
        return actor.partner == str(referring_partner_id)
    return actor.can_see_library(library, municipality)


def may_read_personal_data(actor: Actor, *, library: str, referring_partner_id: UUID) -> bool:
    """Only the receiving library's staff and the partner that referred (who knows the person) see who it is."""
    if actor.role is Role.STAFF:
        return actor.library == library
    return actor.role is Role.PARTNER and actor.partner == str(referring_partner_id)
