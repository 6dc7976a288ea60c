"""Notices: which event tells whom what, who may choose which kinds, and the words of each message. Pure.

A message names what it is about by a reference (the last part of the referral's id, the partnership's) and links
to the console, where the reader sees what their role may see. It never carries a participant's personal data:
it is built from events, which have none, and from names of organisations only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from shared.clock import LOCAL_TIME
from shared.contracts.partners.api.notices import NoticeKind, NoticeLanguage
from shared.contracts.partners.api.organisations import ContactRole
from shared.errors import Forbidden, InvalidInput
from shared.tenancy import API_KEY_SUBJECT_PREFIX, Actor, Role

# An event older than this tells nobody anything: a consumer that starts on a stream with history (a first
# deployment, a restore) must not send a flood of stale notices.
MAX_NOTICE_AGE = timedelta(days=1)

STAFF_KINDS = (
    NoticeKind.REFERRAL_SUBMITTED,
    NoticeKind.REFERRAL_OVERDUE,
    NoticeKind.REFERRAL_DECLINED,
    NoticeKind.REVIEW_DUE,
    NoticeKind.WAITING_LIST_PLACE,
)
PARTNER_KINDS = (
    NoticeKind.REFERRAL_SUBMITTED,
    NoticeKind.REFERRAL_OVERDUE,
    NoticeKind.REFERRAL_DECLINED,
    NoticeKind.DELIVERY_FAILED,
)
# The municipality's view: the network's agreements coming due or ending, and a partner's systems not receiving.
COORDINATOR_KINDS = (
    NoticeKind.REVIEW_DUE,
    NoticeKind.PARTNERSHIP_ENDED,
    NoticeKind.PARTNER_DELIVERY_FAILED,
)
# A partner's registered contacts (and its general address, as a primary contact) get these kinds unless a person
# of the partner chose otherwise for that address: whoever the partner named for referrals, or for the technique.
CONTACT_ROLES = {
    NoticeKind.REFERRAL_SUBMITTED: (ContactRole.PRIMARY, ContactRole.REFERRALS),
    NoticeKind.REFERRAL_OVERDUE: (ContactRole.PRIMARY, ContactRole.REFERRALS),
    NoticeKind.REFERRAL_DECLINED: (ContactRole.PRIMARY, ContactRole.REFERRALS),
    NoticeKind.DELIVERY_FAILED: (ContactRole.PRIMARY, ContactRole.TECHNICAL),
}


def kinds_for(actor: Actor) -> tuple[NoticeKind, ...]:
    """The kinds a person may choose: staff of a library, or a partner's person. Others get no notices."""
    if actor.role is Role.STAFF:
        return STAFF_KINDS
    if actor.role is Role.PARTNER and not actor.subject.startswith(API_KEY_SUBJECT_PREFIX):
        return PARTNER_KINDS
    if actor.role is Role.COORDINATOR and actor.municipality:
        return COORDINATOR_KINDS
    raise Forbidden("notices are for library staff, coordinators and partners' people, signed in as themselves")


def check_choice(actor: Actor, email: str, kinds: list[NoticeKind]) -> list[NoticeKind]:
    """The kinds chosen, in their order, once each; a kind the role cannot get is refused, as is an address
    that SMTP cannot carry as it is."""
    available = kinds_for(actor)
    if not email.isascii():
        raise InvalidInput("the e-mail address must be plain ASCII")
    refused = [kind.value for kind in kinds if kind not in available]
    if refused:
        raise InvalidInput(f"a {actor.role.value} cannot get these notices: {', '.join(refused)}")
    return [kind for kind in available if kind in kinds]


@dataclass(frozen=True)
class Audience:
    """Whom a notice is for: a library's staff, a partner's people, or the coordinators of a municipality (named,
    or the partner's: `coordinators` with `partner_id`)."""

    library: str | None = None
    partner_id: UUID | None = None
    municipality: str | None = None
    coordinators: bool = False


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    cause: str  # the event id (or delivery id): one message per cause and address
    audience: Audience
    reference: str  # what the message names instead of a person
    path: str  # where in the console the reader sees more
    facts: dict[str, str] = field(default_factory=dict)  # dates and codes the message quotes


def reference_of(identifier: UUID | str) -> str:
    """The id's last eight characters, as the console shortens it: its start is the time (ids are time-ordered),
    the same for everything made in the same minute."""
    return str(identifier)[-8:]


def receiving_side(data: dict[str, Any]) -> Audience:
    partner = data.get("receiving_partner_id")
    return Audience(partner_id=UUID(partner)) if partner else Audience(library=data["library"])


def referring_side(data: dict[str, Any]) -> Audience:
    partner = data.get("referring_partner_id")
    return Audience(partner_id=UUID(partner)) if partner else Audience(library=data["library"])


def referral_notice(event_id: UUID, event_type: str, data: dict[str, Any]) -> Notice | None:
    """The notice a referral event makes, if any (`event_type` without its version: `referral.submitted`)."""
    referral_id = data["referral_id"]
    path = f"/console/referrals/{referral_id}"
    reference = reference_of(referral_id)
    cause = str(event_id)
    if event_type == "referral.submitted":
        facts = {"respond_by": data["respond_by"]} if data.get("respond_by") else {}
        return Notice(NoticeKind.REFERRAL_SUBMITTED, cause, receiving_side(data), reference, path, facts)
    if event_type == "referral.overdue":
        facts = {"respond_by": data["respond_by"]}
        return Notice(NoticeKind.REFERRAL_OVERDUE, cause, receiving_side(data), reference, path, facts)
    if event_type == "referral.declined":
        facts = {"reason": data["reason"]}
        return Notice(NoticeKind.REFERRAL_DECLINED, cause, referring_side(data), reference, path, facts)
    if event_type == "referral.notification_requested" and data.get("reason") == "place_from_waiting_list":
        facts = {"starts_at": data["session_starts_at"]} if data.get("session_starts_at") else {}
        audience = Audience(library=data["library"])
        return Notice(NoticeKind.WAITING_LIST_PLACE, cause, audience, reference, path, facts)
    return None


def review_notice(event_id: UUID, partnership_id: UUID, library: str, review_on: str) -> Notice:
    return Notice(
        NoticeKind.REVIEW_DUE,
        str(event_id),
        Audience(library=library),
        reference_of(partnership_id),
        f"/console/network/partnerships/{partnership_id}/edit",
        {"review_on": review_on},
    )


def coordinators_review_notice(
    event_id: UUID, partnership_id: UUID, partner_id: UUID, municipality: str, review_on: str
) -> Notice:
    """The same review, for the municipality: the coordinator sees the partner and its partnerships."""
    return Notice(
        NoticeKind.REVIEW_DUE,
        str(event_id),
        Audience(municipality=municipality, coordinators=True),
        reference_of(partnership_id),
        f"/console/network/partners/{partner_id}",
        {"review_on": review_on},
    )


def partnership_ended_notice(event_id: UUID, partnership_id: UUID, partner_id: UUID, municipality: str) -> Notice:
    return Notice(
        NoticeKind.PARTNERSHIP_ENDED,
        str(event_id),
        Audience(municipality=municipality, coordinators=True),
        reference_of(partnership_id),
        f"/console/network/partners/{partner_id}",
    )


def partner_delivery_failed_notice(delivery_id: UUID, partner_id: UUID, attempts: int) -> Notice:
    """For the coordinators of the partner's municipality: which partner, not what the event was."""
    return Notice(
        NoticeKind.PARTNER_DELIVERY_FAILED,
        f"delivery:{delivery_id}",
        Audience(partner_id=partner_id, coordinators=True),
        reference_of(delivery_id),
        f"/console/network/partners/{partner_id}",
        {"attempts": str(attempts)},
    )


def delivery_failed_notice(delivery_id: UUID, partner_id: UUID, webhook_id: UUID, attempts: int) -> Notice:
    return Notice(
        NoticeKind.DELIVERY_FAILED,
        f"delivery:{delivery_id}",
        Audience(partner_id=partner_id),
        reference_of(delivery_id),
        f"/console/subscriptions/{webhook_id}",
        {"attempts": str(attempts)},
    )


def is_stale(event_time: datetime, now: datetime) -> bool:
    return now - event_time > MAX_NOTICE_AGE


# --- the words ---------------------------------------------------------------------------------------------

SUBJECTS = {
    NoticeKind.REFERRAL_SUBMITTED: {
        NoticeLanguage.NL: "Nieuwe doorverwijzing {reference}",
        NoticeLanguage.EN: "New referral {reference}",
    },
    NoticeKind.REFERRAL_OVERDUE: {
        NoticeLanguage.NL: "Doorverwijzing {reference} wacht op antwoord",
        NoticeLanguage.EN: "Referral {reference} is waiting for an answer",
    },
    NoticeKind.REFERRAL_DECLINED: {
        NoticeLanguage.NL: "Doorverwijzing {reference} is afgewezen",
        NoticeLanguage.EN: "Referral {reference} was declined",
    },
    NoticeKind.REVIEW_DUE: {
        NoticeLanguage.NL: "Samenwerking {reference}: tijd voor de evaluatie",
        NoticeLanguage.EN: "Partnership {reference}: time for its review",
    },
    NoticeKind.WAITING_LIST_PLACE: {
        NoticeLanguage.NL: "Plaats vrij van de wachtlijst: doorverwijzing {reference}",
        NoticeLanguage.EN: "A place came free from the waiting list: referral {reference}",
    },
    NoticeKind.DELIVERY_FAILED: {
        NoticeLanguage.NL: "Webhook-aflevering {reference} is mislukt",
        NoticeLanguage.EN: "Webhook delivery {reference} failed",
    },
    NoticeKind.PARTNERSHIP_ENDED: {
        NoticeLanguage.NL: "Samenwerking {reference} is beëindigd",
        NoticeLanguage.EN: "Partnership {reference} has ended",
    },
    NoticeKind.PARTNER_DELIVERY_FAILED: {
        NoticeLanguage.NL: "Een partner ontvangt gebeurtenissen niet: aflevering {reference} is mislukt",
        NoticeLanguage.EN: "A partner is not receiving events: delivery {reference} failed",
    },
}

LINES = {
    NoticeKind.REFERRAL_SUBMITTED: {
        NoticeLanguage.NL: "Er is een nieuwe doorverwijzing voor u (referentie {reference}).",
        NoticeLanguage.EN: "There is a new referral for you (reference {reference}).",
    },
    NoticeKind.REFERRAL_OVERDUE: {
        NoticeLanguage.NL: "Doorverwijzing {reference} had beantwoord moeten zijn en wacht nog op u.",
        NoticeLanguage.EN: "Referral {reference} should have been answered by now and is still waiting for you.",
    },
    NoticeKind.REFERRAL_DECLINED: {
        NoticeLanguage.NL: "Uw doorverwijzing {reference} is afgewezen.",
        NoticeLanguage.EN: "Your referral {reference} was declined.",
    },
    NoticeKind.REVIEW_DUE: {
        NoticeLanguage.NL: "De afgesproken evaluatie van samenwerking {reference} is aan de beurt.",
        NoticeLanguage.EN: "The agreed review of partnership {reference} is due.",
    },
    NoticeKind.WAITING_LIST_PLACE: {
        NoticeLanguage.NL: "Voor de deelnemer van doorverwijzing {reference} is een plaats vrijgekomen. "
        "Laat het de deelnemer weten.",
        NoticeLanguage.EN: "A place came free for the participant of referral {reference}. Please let them know.",
    },
    NoticeKind.DELIVERY_FAILED: {
        NoticeLanguage.NL: "Een gebeurtenis kon na {attempts} pogingen niet bij uw webhook worden afgeleverd "
        "(aflevering {reference}). U kunt haar opnieuw laten afleveren.",
        NoticeLanguage.EN: "An event could not be delivered to your webhook after {attempts} tries "
        "(delivery {reference}). You can have it delivered again.",
    },
    NoticeKind.PARTNERSHIP_ENDED: {
        NoticeLanguage.NL: "Samenwerking {reference} tussen een bibliotheek en een partner in uw gemeente is "
        "beëindigd.",
        NoticeLanguage.EN: "Partnership {reference} between a library and a partner in your municipality has ended.",
    },
    NoticeKind.PARTNER_DELIVERY_FAILED: {
        NoticeLanguage.NL: "Een gebeurtenis kon na {attempts} pogingen niet bij de webhook van een partner in uw "
        "gemeente worden afgeleverd (aflevering {reference}). De partner is ook gewaarschuwd.",
        NoticeLanguage.EN: "An event could not be delivered to the webhook of a partner in your municipality after "
        "{attempts} tries (delivery {reference}). The partner was told too.",
    },
}

FACT_LINES = {
    "respond_by": {NoticeLanguage.NL: "Antwoorden vóór: {value}", NoticeLanguage.EN: "Answer by: {value}"},
    "reason": {NoticeLanguage.NL: "Reden: {value}", NoticeLanguage.EN: "Reason: {value}"},
    "review_on": {NoticeLanguage.NL: "Evaluatiedatum: {value}", NoticeLanguage.EN: "Review date: {value}"},
    "starts_at": {NoticeLanguage.NL: "De cursus begint: {value}", NoticeLanguage.EN: "The course starts: {value}"},
}

CLOSING = {
    NoticeLanguage.NL: "Bekijk het in de console: {link}\n\n"
    "Dit bericht bevat geen persoonsgegevens van deelnemers. U krijgt het omdat u deze meldingen hebt gekozen "
    "of als contactpersoon bent opgegeven; wijzig dat op {preferences}.",
    NoticeLanguage.EN: "See it in the console: {link}\n\n"
    "This message carries no personal data of participants. You get it because you chose these notices or were "
    "named as a contact; change that at {preferences}.",
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


# A decline's reason in the reader's words (the event carries its code).
DECLINE_REASONS = {
    "no_capacity": {NoticeLanguage.NL: "geen plaats", NoticeLanguage.EN: "no place"},
    "not_our_offer": {NoticeLanguage.NL: "past niet bij ons aanbod", NoticeLanguage.EN: "not what we offer"},
    "not_eligible": {NoticeLanguage.NL: "komt niet in aanmerking", NoticeLanguage.EN: "not eligible"},
    "participant_unreachable": {
        NoticeLanguage.NL: "deelnemer niet bereikbaar",
        NoticeLanguage.EN: "the participant could not be reached",
    },
    "participant_not_interested": {
        NoticeLanguage.NL: "deelnemer wil niet meer",
        NoticeLanguage.EN: "the participant is no longer interested",
    },
    "other": {
        NoticeLanguage.NL: "een andere reden (zie de verwijzing)",
        NoticeLanguage.EN: "another reason (see the referral)",
    },
}
MOMENTS = ("respond_by", "starts_at")  # instants, said in Dutch time: the event carries them in UTC


def fact_value(name: str, value: Any, language: NoticeLanguage) -> str:
    """A fact as its reader reads it: a moment in Dutch time to the minute (the event's was UTC with microseconds,
    `2026-12-15T12:13:27.954786Z`), a decline's reason in words; anything else as it is."""
    if name in MOMENTS and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value).astimezone(LOCAL_TIME)
        except ValueError:
            return value
        return moment.strftime("%d-%m-%Y %H:%M" if language is NoticeLanguage.NL else "%Y-%m-%d %H:%M")
    if name == "reason" and value in DECLINE_REASONS:
        return DECLINE_REASONS[value][language]
    return str(value)


def compose(notice: Notice, language: NoticeLanguage, base_url: str) -> Message:
    """The message in the reader's language; only the reference, dates, codes and links of the notice."""
    facts = {name: fact_value(name, value, language) for name, value in notice.facts.items()}
    words = {"reference": notice.reference, **facts}
    lines = [LINES[notice.kind][language].format(**words), ""]
    lines += [FACT_LINES[name][language].format(value=value) for name, value in facts.items() if name in FACT_LINES]
    if len(lines) > 2:
        lines.append("")
    lines.append(CLOSING[language].format(link=base_url + notice.path, preferences=base_url + "/console/notices"))
    return Message(subject=SUBJECTS[notice.kind][language].format(**words), body="\n".join(lines) + "\n")
