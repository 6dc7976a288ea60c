"""The e-mails residents get about their registration, in Dutch and English: plain words, one link. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.clock import LOCAL_TIME


@dataclass(frozen=True)
class ResidentMessage:
    subject: str
    body: str


SUBJECTS = {
    "nl": {
        "confirm": "Bevestig je aanmelding: {course}",
        "place": "Je hebt een plek: {course}",
        "waiting_list": "Je staat op de wachtlijst: {course}",
        "offer": "Er is een plek voor je: {course}",
        "lapsed": "De plek is naar de volgende gegaan: {course}",
        "cancelled": "Afgezegd: {course}",
    },
    "en": {
        "confirm": "Confirm your sign-up: {course}",
        "place": "You have a place: {course}",
        "waiting_list": "You are on the waiting list: {course}",
        "offer": "A place is free for you: {course}",
        "lapsed": "The place went to the next person: {course}",
        "cancelled": "Cancelled: {course}",
    },
}
TEXTS = {
    "nl": {
        "confirm": "Je meldde je aan voor {course} op {when}{where}.\n\nBevestig je aanmelding via deze link. "
        "Pas dan krijg je een plek of een plaats op de wachtlijst. De link werkt 24 uur.",
        "place": "Je hebt een plek bij {course} op {when}{where}.\n\nKun je niet? Zeg je plek dan af via de link. "
        "Dan gaat hij naar iemand op de wachtlijst.",
        "waiting_list": "De cursus {course} op {when}{where} is vol. Je staat op de wachtlijst.\n\nKomt er een plek "
        "vrij, dan krijg je een e-mail. Via de link zie je je plaats op de lijst, of meld je je af.",
        "offer": "Er is een plek vrij bij {course} op {when}{where}.\n\nWil je de plek? Neem hem aan via de link "
        "vóór {until}. Anders gaat de plek naar de volgende op de wachtlijst.",
        "lapsed": "Je hebt de plek bij {course} niet op tijd aangenomen. De plek is naar de volgende op de "
        "wachtlijst gegaan.\n\nJe kunt je opnieuw aanmelden in de cursuskalender.",
        "cancelled": "De bibliotheek heeft je aanmelding voor {course} op {when}{where} afgezegd. Heb je vragen? "
        "Neem dan contact op met de bibliotheek.",
    },
    "en": {
        "confirm": "You signed up for {course} on {when}{where}.\n\nConfirm your sign-up with this link. Only then "
        "do you get a place or a spot on the waiting list. The link works for 24 hours.",
        "place": "You have a place in {course} on {when}{where}.\n\nCannot come? Cancel with the link, and the "
        "place goes to someone on the waiting list.",
        "waiting_list": "{course} on {when}{where} is full. You are on the waiting list.\n\nWhen a place comes free "
        "you get an e-mail. The link shows where you are on the list, or lets you cancel.",
        "offer": "A place is free in {course} on {when}{where}.\n\nDo you want it? Accept it with the link before "
        "{until}. Otherwise it goes to the next person on the waiting list.",
        "lapsed": "You did not accept the place in {course} in time. It went to the next person on the waiting "
        "list.\n\nYou can sign up again in the course calendar.",
        "cancelled": "The library cancelled your sign-up for {course} on {when}{where}. Questions? Contact the "
        "library.",
    },
}
LINK = {"nl": "Je aanmelding: {link}", "en": "Your sign-up: {link}"}
IGNORE = {
    "nl": "Heb jij je niet aangemeld? Dan hoef je niets te doen.",
    "en": "Did you not sign up? Then there is nothing to do.",
}


def local(moment: datetime, language: str) -> str:
    at = moment.astimezone(LOCAL_TIME)
    return at.strftime("%d-%m-%Y %H:%M") if language == "nl" else at.strftime("%Y-%m-%d %H:%M")


def resident_message(
    kind: str,
    language: str,
    *,
    name: str,
    course: str,
    starts_at: datetime,
    place: str | None,
    link: str,
    offer_expires_at: datetime | None,
) -> ResidentMessage:
    lang = language if language in TEXTS else "nl"
    where = f" ({place})" if place else ""
    until = local(offer_expires_at, lang) if offer_expires_at else ""
    text = TEXTS[lang][kind].format(course=course, when=local(starts_at, lang), where=where, until=until)
    greeting = f"Hallo {name}," if lang == "nl" else f"Hello {name},"
    parts = [greeting, text, LINK[lang].format(link=link)]
    if kind == "confirm":
        parts.append(IGNORE[lang])
    return ResidentMessage(subject=SUBJECTS[lang][kind].format(course=course), body="\n\n".join(parts) + "\n")
