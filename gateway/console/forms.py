"""Form posts into the services' request types.

A field is named after its place in the request with `_` for `.` (`participant.name` → `participant_name`),
so an error that names a place (`$.participant.name`) points at its field. The browser checks the same
constraints before sending (required, pattern, min/max); `msgspec.convert` checks them again here, and the
service once more.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from litestar.datastructures import FormMultiDict

from shared.clock import LOCAL_TIME
from shared.contracts.partners.api.organisations import PartnerChanges, PartnerStep, RegisterPartner, StatusChange
from shared.contracts.partners.api.partnerships import CreatePartnership, PartnershipChanges, PartnershipStep
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    Arrival,
    CompleteReferral,
    DeclineReferral,
    PlanIntake,
    RecordIntakeHeld,
    RecordNoShow,
    ReferralView,
    RevokeConsent,
    SubmitReferral,
    WithdrawReferral,
)
from shared.contracts.vocabulary import SkillArea
from shared.errors import InvalidInput
from shared.operations import Operation

T = TypeVar("T")


def text(form: FormMultiDict, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def flag(form: FormMultiDict, name: str) -> bool:
    return text(form, name) in ("on", "true", "1", "yes")


def number(form: FormMultiDict, name: str) -> int | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"not a whole number - at `$.{name.replace('_', '.')}`") from None


def local_datetime(form: FormMultiDict, name: str, path: str) -> datetime | None:
    """`datetime-local` has no zone: the console is Dutch, so it is Dutch time."""
    value = text(form, name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not a date and time - at `$.{path}`") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TIME)


def local_date(form: FormMultiDict, name: str, path: str) -> date | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not a date - at `$.{path}`") from None


def uuid(form: FormMultiDict, name: str) -> UUID | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput(f"not an id - at `$.{name}`") from None


def convert(data: dict[str, Any], kind: type[T]) -> T:
    """Leaves out what is empty, so a request type's defaults apply."""
    return msgspec.convert(_without_empty(data), type=kind)


def _without_empty(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _without_empty(value) for key, value in data.items() if value is not None}
    return data


def person(form: FormMultiDict, prefix: str) -> dict[str, Any]:
    return {
        "name": text(form, f"{prefix}_name"),
        "phone": text(form, f"{prefix}_phone"),
        "email": text(form, f"{prefix}_email"),
    }


def submit_referral(
    form: FormMultiDict, *, referring_partner_id: str | None, library: str | None, now: datetime
) -> SubmitReferral:
    """A partner refers to a library (`library` from the form); a library's staff to a partner (from the form)."""
    needs = [
        {"area": area.value, "level": text(form, f"needs_{area.value}_level")}
        for area in SkillArea
        if area.value in form.getall("needs", [])
    ]
    library = library or text(form, "library")
    # Staff choose the partner they refer to, or log a walk-in or self-referral (no partner at all).
    chosen = None if referring_partner_id else text(form, "receiving_partner_id")
    arrival = chosen if chosen in {kind.value for kind in Arrival} else None
    receiving_partner_id = None if arrival else chosen
    # The consent is given to the receiving party chosen above (from the network, not typed).
    given_to = {"partner_id": receiving_partner_id} if receiving_partner_id else {"library": library}
    data: dict[str, Any] = {
        "library": library,
        "referring_partner_id": referring_partner_id,
        "receiving_partner_id": receiving_partner_id,
        "arrival": arrival,
        "contact_person": person(form, "contact_person"),
        "participant": {
            **person(form, "participant"),
            "birth_date": local_date(form, "participant_birth_date", "participant.birth_date"),
        },
        "needs": needs,
        "reason": text(form, "reason"),
        "preferred_channel": text(form, "preferred_channel"),
        "consent": {
            "given_at": local_datetime(form, "consent_given_at", "consent.given_at") or now,
            "given_to": [given_to],
            "shares": form.getall("consent_shares", []),
            "purpose": text(form, "consent_purpose"),
            "valid_until": local_date(form, "consent_valid_until", "consent.valid_until"),
        },
    }
    return convert(data, SubmitReferral)


STEPS = ("accept", "decline", "plan-intake", "intake-held", "complete", "no-show", "withdraw", "revoke-consent")


def referral_step(form: FormMultiDict, step: str) -> tuple[Operation[Any, ReferralView], Any]:
    """The referrals service's declared operation and command for a lifecycle step posted from a referral's page."""
    version = number(form, "expected_version")
    note = text(form, "note")
    common: dict[str, Any] = {"expected_version": version, "note": note}
    if step == "accept":
        return ops.ACCEPT_REFERRAL, convert(common, AcceptReferral)
    if step == "decline":
        return ops.DECLINE_REFERRAL, convert({**common, "reason": text(form, "reason")}, DeclineReferral)
    if step == "withdraw":
        return ops.WITHDRAW_REFERRAL, convert({**common, "reason": text(form, "reason")}, WithdrawReferral)
    if step == "revoke-consent":
        data = {
            **common,
            "told_at": local_datetime(form, "told_at", "told_at"),
            "told_via": text(form, "told_via"),
        }
        return ops.REVOKE_CONSENT, convert(data, RevokeConsent)
    if step == "no-show":
        return ops.RECORD_NO_SHOW, convert(common, RecordNoShow)
    if step == "intake-held":
        return ops.RECORD_INTAKE_HELD, convert(common, RecordIntakeHeld)
    if step == "plan-intake":
        data = {
            **common,
            "intake_at": local_datetime(form, "intake_at", "intake_at"),
            "place": text(form, "place"),
            "contact_person": person(form, "contact_person"),
        }
        return ops.PLAN_INTAKE, convert(data, PlanIntake)
    if step == "complete":
        outcome = {
            "course_finished": flag(form, "outcome_course_finished"),
            "moved_to_work": flag(form, "outcome_moved_to_work"),
            "further_education": flag(form, "outcome_further_education"),
        }
        return ops.COMPLETE_REFERRAL, convert({**common, "outcome": outcome}, CompleteReferral)
    raise InvalidInput(f"unknown step {step}")


# --- the network: partners and partnerships (staff and coordinators)


def partner_details(form: FormMultiDict) -> dict[str, Any]:
    """A partner's fields as the partner form has them (its name, kind, KvK number, contact details, skill areas)."""
    return {
        "name": text(form, "name"),
        "kind": text(form, "kind"),
        "chamber_of_commerce_number": text(form, "chamber_of_commerce_number"),
        "email": text(form, "email"),
        "phone": text(form, "phone"),
        "website": text(form, "website"),
        "skill_areas": form.getall("skill_areas", []),
    }


ADDRESS_ROWS = 10  # as many as a partner may have
ADDRESS_FIELDS = ("street", "house_number", "postcode", "city", "kind")


def address_rows(form: FormMultiDict) -> list[dict[str, Any]]:
    """The address rows as typed (`address-<n>-street` …); a row left wholly empty is no address. Where the form
    showed the open-data choice, each row's own checkbox says whether that address is published."""
    rows: list[dict[str, Any]] = []
    for n in range(ADDRESS_ROWS):
        row: dict[str, Any] = {name: text(form, f"address-{n}-{name}") or "" for name in ADDRESS_FIELDS}
        if any(row[name] for name in ADDRESS_FIELDS if name != "kind"):
            if form.get("open_data_shown"):
                row["open_data"] = bool(form.get(f"address-{n}-open_data"))
            rows.append(row)
    return rows


# What a partner may publish as open data (OpenDataChoices), one checkbox each, in this order.
OPEN_DATA_CHOICES = ("publish", "addresses", "email", "phone", "courses")


def addresses(form: FormMultiDict) -> list[dict[str, Any]]:
    return [
        {**row, "postcode": row["postcode"].upper(), "kind": row["kind"] or "visiting"} for row in address_rows(form)
    ]


def register_partner(form: FormMultiDict, *, municipality: str | None) -> RegisterPartner:
    data = {**partner_details(form), "addresses": addresses(form), "municipality": municipality}
    return convert(data, RegisterPartner)


def open_data(form: FormMultiDict) -> dict[str, Any]:
    """What the partner publishes as open data, where the form showed the choice: the whole choice, as ticked."""
    if not form.get("open_data_shown"):
        return {}
    ticked = form.getall("open_data", [])
    return {"open_data": {choice: choice in ticked for choice in OPEN_DATA_CHOICES}}


def partner_changes(form: FormMultiDict) -> PartnerChanges:
    """The record as the edit form shows it, as a merge patch: an emptied field is cleared (null), emptied
    addresses go; the name and kind cannot be emptied (null there is refused)."""
    data = {**partner_details(form), "addresses": addresses(form), "expected_version": number(form, "expected_version")}
    return msgspec.convert(data | open_data(form), PartnerChanges)


def partnership_terms(form: FormMultiDict) -> dict[str, Any]:
    return {
        "roles": form.getall("roles", []),
        "library_contributions": form.getall("library_contributions", []),
        "partner_contributions": form.getall("partner_contributions", []),
        "starts_on": local_date(form, "starts_on", "starts_on"),
        "ends_on": local_date(form, "ends_on", "ends_on"),
        "review_on": local_date(form, "review_on", "review_on"),
        "note": text(form, "note"),
    }


def create_partnership(form: FormMultiDict, *, library: str | None) -> CreatePartnership:
    data = {**partnership_terms(form), "library": library, "partner_id": uuid(form, "partner_id")}
    return convert(data, CreatePartnership)


def partnership_changes(form: FormMultiDict) -> PartnershipChanges:
    """The terms as the edit form shows them, as a merge patch: an emptied end date, review date or note is
    cleared; an emptied start date is refused (null there is)."""
    data = {**partnership_terms(form), "expected_version": number(form, "expected_version")}
    return msgspec.convert(data, PartnershipChanges)


def status_change(form: FormMultiDict, *, final: bool) -> StatusChange:
    """The reason and version of a lifecycle step; a final one (ending) only with its box ticked."""
    if final and text(form, "confirm") != "yes":
        raise InvalidInput("confirm that it ends for good - at `$.confirm`")
    return convert({"reason": text(form, "reason"), "expected_version": number(form, "expected_version")}, StatusChange)


def partnership_step(form: FormMultiDict) -> tuple[PartnershipStep, StatusChange]:
    try:
        step = PartnershipStep(text(form, "step") or "")
    except ValueError:
        raise InvalidInput("not a step of a partnership - at `$.step`") from None
    return step, status_change(form, final=step is PartnershipStep.END)


def partner_step(form: FormMultiDict) -> tuple[PartnerStep, StatusChange]:
    try:
        step = PartnerStep(text(form, "step") or "")
    except ValueError:
        raise InvalidInput("not a step of a partner - at `$.step`") from None
    return step, status_change(form, final=step is PartnerStep.END)
