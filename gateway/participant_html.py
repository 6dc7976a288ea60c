"""The participant's page as HTML: plain Dutch at B1 (short sentences, everyday words), large text, pictograms
as inline SVG, a button that reads the page aloud with the browser's own voice (Web Speech API, nl-NL; no
outside service), and nothing from anywhere else: one self-contained document with a strict CSP.

The pages are Jinja templates in gateway/participant_templates (the gateway's one template setup,
gateway/templates.py); here is what they say, worked out from the referral. Their frame's style, script and
headers are gateway/participant_document.py. The texts are checked at B1 with the Flesch–Douma score in
tests/e2e/test_participant_page.py; keep a sentence short and its words common when changing one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from markupsafe import Markup

from gateway.participant_document import SCRIPT, STYLE, day_and_time, long_date
from gateway.templates import Page
from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api.participant_page import (
    HeldData,
    PageParty,
    ParticipantChangeKind,
    ParticipantCodeIssued,
    ParticipantPage,
)
from shared.contracts.referrals.api.referrals import ReferralStatus


def render(template: str, **context: Any) -> Page:
    # The style and script are this module's own text, hashed for the CSP: not escaped.
    return Page(f"participant/{template}", {"style": Markup(STYLE), "script": Markup(SCRIPT), **context})


def _sections(title: str, *sections: tuple[str, str, list[str]], back: bool = False, code: str | None = None) -> Page:
    """A page of sections of plain lines: (pictogram, heading, lines)."""
    return render("message.html", title=title, sections=sections, back=back, code=code)


# --- the pages --------------------------------------------------------------------------------------------


def code_form(*, message: str | None = None) -> Page:
    return render("code_form.html", message=message)


BEFORE_THE_INTAKE = (ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.INTAKE_PLANNED)
CLOSED_HOW = {
    ReferralStatus.COMPLETED: "U bent klaar. Fijn dat u meedeed!",
    ReferralStatus.NO_SHOW: "U kwam niet naar de afspraak. De afspraak is nu voorbij.",
}


def participant_page(page: ParticipantPage, code: str) -> Page:
    """The participant's own referral, or after it closed what is held about them and their rights."""
    receiver = page.receiver_name or ("de bibliotheek" if page.receiver_kind == "library" else "onze partner")
    closed: list[str] = []
    if page.closed_at is not None:
        day = long_date(page.closed_at.astimezone(LOCAL_TIME).date())
        how = CLOSED_HOW.get(page.status) if page.status is not None else None
        closed = [f"U ging naar {receiver}.", how or "Uw aanvraag is gestopt.", f"Dat was op {day}."]
    intake = intake_held = None
    # The coming appointment, with its change buttons, only while it is to come: once held it is no appointment
    # (the service refuses a change then too: services/referrals/participant_codes.py may_ask).
    if page.intake_at is not None and page.status is ReferralStatus.INTAKE_PLANNED:
        day, time = day_and_time(page.intake_at)
        intake = {"day": day, "time": time}
    elif page.intake_at is not None and page.status in (ReferralStatus.INTAKE_HELD, ReferralStatus.ENROLLED):
        intake_held = {"day": day_and_time(page.intake_at)[0]}
    return render(
        "page.html",
        p=page,
        code=code,
        receiver=receiver,
        closed=closed,
        enrolled=page.status is ReferralStatus.ENROLLED,
        intake=intake,
        intake_held=intake_held,
        may_change=page.status in BEFORE_THE_INTAKE,
        **_data(page),
    )


# --- their data and their rights: what is held, who receives it, until when; export, erasure, revocation -------

HELD = {
    HeldData.NAME: "Uw naam",
    HeldData.BIRTH_DATE: "Uw geboortedatum",
    HeldData.PHONE: "Uw telefoonnummer",
    HeldData.EMAIL: "Uw e-mailadres",
    HeldData.REASON: "Waarom u bent doorgestuurd",
    HeldData.NEEDS: "Wat u wilt leren",
    HeldData.APPOINTMENT: "Uw afspraak",
    HeldData.OUTCOME: "Hoe het ging",
    HeldData.HISTORY: "Wat er met uw aanvraag gebeurde",
}
ROLES = {"library": "bewaart uw gegevens", "referring": "stuurde u door", "receiving": "helpt u verder"}
RIGHTS_ASKED = {
    ParticipantChangeKind.EXPORT: "U wilt uw gegevens zien.",
    ParticipantChangeKind.ERASURE: "U wilt dat wij uw gegevens wissen.",
    ParticipantChangeKind.REVOCATION: "U wilt niet meer dat wij uw gegevens delen.",
}
RIGHTS_BUTTONS = {
    ParticipantChangeKind.EXPORT: "Stuur mij mijn gegevens",
    ParticipantChangeKind.ERASURE: "Wis mijn gegevens",
    ParticipantChangeKind.REVOCATION: "Stop met delen",
}
CONSENT_ENDED = {
    "revoked": "U trok uw toestemming in. Niemand ziet uw gegevens nog.",
    "expired": "Uw toestemming is voorbij. Niemand ziet uw gegevens nog.",
}


def _party_line(party: PageParty, until: date | None) -> str:
    """Who the party is to them, and whether it is shown who they are (and until when)."""
    who = f"{party.name or 'Onze partner'}: {ROLES.get(party.role, '')}."
    if not party.sees and party.since is not None:
        return f"{who} Ziet uw gegevens niet meer sinds {long_date(party.since.astimezone(LOCAL_TIME).date())}."
    if not party.sees:
        return f"{who} Ziet uw gegevens niet."
    return f"{who} Mag uw gegevens zien tot {long_date(until)}." if until else f"{who} Mag uw gegevens zien."


def _data(page: ParticipantPage) -> dict[str, Any]:
    until = [CONSENT_ENDED[page.consent_state]] if page.consent_state in CONSENT_ENDED else []
    if not until and page.shared_until is not None:
        until.append(f"U gaf toestemming tot {long_date(page.shared_until)}.")
    if page.kept_until is not None:
        until.append(f"Op {long_date(page.kept_until.astimezone(LOCAL_TIME).date())} wissen wij uw gegevens.")
    elif page.retention_days is not None:
        until.append(f"Wij wissen uw gegevens {page.retention_days} dagen nadat uw aanvraag klaar is.")
    ended = page.consent_state in CONSENT_ENDED  # nothing shared any more: nothing to stop sharing
    return {
        "held": [HELD[kind] for kind in page.held],
        "reads": f"Uw gegevens zijn {page.reads} keer bekeken." if page.reads else "Niemand heeft ze nog bekeken.",
        "parties": [_party_line(party, page.shared_until) for party in page.parties],
        "until": until,
        "asked": [f"U vroeg al: {RIGHTS_ASKED[kind]} Wij bellen u." for kind in page.rights_requested],
        "rights": [
            (kind.value, label)
            for kind, label in RIGHTS_BUTTONS.items()
            if kind not in page.rights_requested and not (ended and kind is ParticipantChangeKind.REVOCATION)
        ],
    }


def change_recorded(kind: ParticipantChangeKind, already: bool) -> Page:
    what = RIGHTS_ASKED.get(kind) or (
        "U kunt niet komen." if kind is ParticipantChangeKind.CANCEL else "U wilt een andere dag."
    )
    said = "Dat wisten we al." if already else "Dat hebben we nu genoteerd."
    return _sections(
        "Dank u wel",
        ("vinkje", "Wij weten het", [f"{what} {said}", "Wij bellen u zo snel als we kunnen."]),
        back=True,
    )


def not_found() -> Page:
    return code_form(message="Deze code kennen we niet. Kijk goed en typ de code nog een keer.")


def erased(at: datetime | None) -> Page:
    """The library erased what it held about them (on their request, or when its time to keep it had passed)."""
    when = f" Dat deden wij op {long_date(at.astimezone(LOCAL_TIME).date())}." if at is not None else ""
    return _sections(
        "Uw gegevens zijn gewist",
        (
            "vinkje",
            "Wat is er gebeurd?",
            [f"Wij hebben uw gegevens gewist.{when}", "Wij weten niets meer van u. Deze code werkt nu niet meer."],
        ),
        ("vraag", "Een vraag?", ["Bel dan de bibliotheek."]),
    )


def nothing_to_change(code: str) -> Page:
    """They asked to change an appointment of a referral that has closed: there is none any more."""
    return _sections(
        "Uw afspraak is al voorbij",
        ("agenda", "Wat nu?", ["U hebt geen afspraak meer. Er is dus niets te veranderen."]),
        ("sleutel", "Uw gegevens", ["U kunt nog wel om uw gegevens vragen. Dat doet u op uw pagina."]),
        code=code,
    )


def locked(retry_after: int) -> Page:
    minutes = max(1, (retry_after + 59) // 60)
    wait = "een minuut" if minutes == 1 else f"{minutes} minuten"
    lines = [
        "U typte te vaak een code die niet klopt.",
        f"Probeer het over {wait} nog een keer.",
        "Lukt het niet? Bel dan de bibliotheek.",
    ]
    return _sections("Even wachten", ("klok", "Te vaak geprobeerd", lines))


def printable_card(issued: ParticipantCodeIssued, base_url: str) -> Page:
    """What staff print and hand over at the intake: the code and where to type it; no name, no QR code."""
    return render("card.html", code=issued.code, base=base_url.rstrip("/"), path=issued.path, read_aloud=False)
