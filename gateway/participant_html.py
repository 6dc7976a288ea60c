"""The participant's page as HTML: plain Dutch at B1 (short sentences, everyday words), large text, pictograms
as inline SVG, a button that reads the page aloud with the browser's own voice (Web Speech API, nl-NL; no
outside service), and nothing from anywhere else: one self-contained document with a strict CSP (its frame:
gateway/participant_document.py).

The texts are checked at B1 with the Flesch–Douma score in tests/e2e/test_participant_page.py; keep a
sentence short and its words common when changing one.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from gateway.participant_document import day_and_time, document, icon, long_date, section
from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api.participant_page import (
    HeldData,
    PageParty,
    ParticipantChangeKind,
    ParticipantCodeIssued,
    ParticipantPage,
)
from shared.contracts.referrals.api.referrals import ReferralStatus

# --- the pages --------------------------------------------------------------------------------------------


def code_form(*, message: str | None = None) -> str:
    note = f'<p class="groot" role="alert">{escape(message)}</p>' if message else ""
    body = (
        "<h1>Uw afspraak bekijken</h1>\n"
        f"{note}"
        f"<section>{icon('sleutel')}<div><h2>Uw code</h2>"
        "<p>U kreeg een papier met een code. De code heeft acht tekens.</p>"
        '<form method="post" action="/p">'
        '<label for="code">Typ hier uw code</label>'
        '<input id="code" name="code" type="text" autocomplete="off" autocapitalize="characters" '
        'spellcheck="false" maxlength="20" required>'
        '<p><button type="submit">Bekijk mijn afspraak</button></p>'
        "</form></div></section>\n"
        + section("vraag", "Hulp nodig?", "Vraag het aan de bibliotheek. Wij helpen u graag.")
    )
    return document("Uw afspraak", body)


def participant_page(page: ParticipantPage, code: str) -> str:
    """The participant's own referral; their name is not on it (see queries/participant_view.py)."""
    receiver = escape(page.receiver_name or ("de bibliotheek" if page.receiver_kind == "library" else "onze partner"))
    parts = ["<h1>Uw afspraak</h1>\n<p>Hier leest u waar u heen gaat. U kunt de tekst ook laten voorlezen.</p>\n"]
    if page.closed_at is not None:
        return _closed_page(page, code, receiver)
    parts.append(section("huis", "Bij wie?", f"U gaat naar {receiver}."))
    if page.status is ReferralStatus.ENROLLED:
        parts.append(section("vinkje", "Hoe gaat het nu?", "U doet mee aan een cursus. Fijn dat u meedoet!"))
    if page.intake_at is not None:
        day, time = day_and_time(page.intake_at)
        parts.append(section("agenda", "Wanneer?", f'Op <span class="groot">{day}</span>.', f"Om {time} uur."))
        parts.append(section("plek", "Waar?", f"Kom naar: {escape(page.place or receiver)}."))
        if page.meet_with:
            parts.append(section("persoon", "Met wie?", f"U praat met {escape(page.meet_with)}."))
    else:
        parts.append(section("agenda", "Wanneer?", "Dat weten we nog niet.", "We bellen u snel voor een afspraak."))
    parts.append(_changesection(page, code))
    parts += _data_sections(page, code)
    return document("Uw afspraak", "".join(parts))


CLOSED_HOW = {
    ReferralStatus.COMPLETED: "U bent klaar. Fijn dat u meedeed!",
    ReferralStatus.NO_SHOW: "U kwam niet naar de afspraak. De afspraak is nu voorbij.",
}


def _closed_page(page: ParticipantPage, code: str, receiver: str) -> str:
    """After the referral closed: no appointment any more, but what is held, who sees it, and their rights."""
    assert page.closed_at is not None
    day = long_date(page.closed_at.astimezone(LOCAL_TIME).date())
    how = CLOSED_HOW.get(page.status) if page.status is not None else None
    lines = [f"U ging naar {receiver}.", how or "Uw aanvraag is gestopt.", f"Dat was op {day}."]
    parts = ["<h1>Uw gegevens</h1>\n<p>Uw aanvraag is klaar. Hier leest u wat wij nog van u weten.</p>\n"]
    parts.append(section("vinkje", "Hoe ging het?", *lines))
    if page.contact_phone:
        phone = escape(page.contact_phone)
        call = f'Hebt u een vraag? Bel ons dan: <a class="groot" href="tel:{_tel(page.contact_phone)}">{phone}</a>.'
        parts.append(section("telefoon", "Een vraag?", call))
    parts += _data_sections(page, code)
    return document("Uw gegevens", "".join(parts))


def _changesection(page: ParticipantPage, code: str) -> str:
    lines = []
    if page.contact_phone:
        phone = escape(page.contact_phone)
        lines.append(f'Bel ons dan: <a class="groot" href="tel:{_tel(page.contact_phone)}">{phone}</a>.')
    if page.change_requested is ParticipantChangeKind.CANCEL:
        lines.append("U gaf al door: ik kom niet. Wij bellen u.")
    elif page.change_requested is ParticipantChangeKind.RESCHEDULE:
        lines.append("U vroeg al om een andere dag. Wij bellen u.")
    else:
        lines.append("Of klik op een knop. Dan bellen wij u.")
    buttons = ""
    if page.change_requested is None and page.intake_at is not None:
        buttons = _change_button(code, ParticipantChangeKind.RESCHEDULE, "Ik wil een andere dag") + _change_button(
            code, ParticipantChangeKind.CANCEL, "Ik kom niet", second=True
        )
    elif page.change_requested is None:
        buttons = _change_button(code, ParticipantChangeKind.CANCEL, "Ik wil niet meer", second=True)
    heading = "Kunt u niet?" if page.intake_at is not None else "Wilt u iets zeggen?"
    text = "".join(f"<p>{line}</p>" for line in lines)
    return f"<section>{icon('telefoon')}<div><h2>{heading}</h2>{text}{buttons}</div></section>\n"


def _change_button(code: str, kind: ParticipantChangeKind, label: str, *, second: bool = False) -> str:
    css = ' class="tweede"' if second else ""
    return (
        '<form method="post" action="/p/change">'
        f'<input type="hidden" name="code" value="{escape(code)}">'
        f'<input type="hidden" name="kind" value="{kind.value}">'
        f'<button type="submit"{css}>{escape(label)}</button></form>'
    )


def _tel(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit() or c == "+")


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


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


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


def _data_sections(page: ParticipantPage, code: str) -> list[str]:
    held = _list([HELD[kind] for kind in page.held])
    reads = f"Uw gegevens zijn {page.reads} keer bekeken." if page.reads else "Niemand heeft ze nog bekeken."
    who = _list([_party_line(party, page.shared_until) for party in page.parties])
    until = [CONSENT_ENDED[page.consent_state]] if page.consent_state in CONSENT_ENDED else []
    if not until and page.shared_until is not None:
        until.append(f"U gaf toestemming tot {long_date(page.shared_until)}.")
    if page.kept_until is not None:
        until.append(f"Op {long_date(page.kept_until.astimezone(LOCAL_TIME).date())} wissen wij uw gegevens.")
    elif page.retention_days is not None:
        until.append(f"Wij wissen uw gegevens {page.retention_days} dagen nadat uw aanvraag klaar is.")
    asked = [f"U vroeg al: {RIGHTS_ASKED[kind]} Wij bellen u." for kind in page.rights_requested]
    ended = page.consent_state in CONSENT_ENDED  # nothing shared any more: nothing to stop sharing
    buttons = "".join(
        _change_button(code, kind, label, second=True)
        for kind, label in RIGHTS_BUTTONS.items()
        if kind not in page.rights_requested and not (ended and kind is ParticipantChangeKind.REVOCATION)
    )
    rights = "".join(f"<p>{line}</p>" for line in ["U mag altijd om uw gegevens vragen.", *asked])
    return [
        f"<section>{icon('persoon')}<div><h2>Wat weten wij van u?</h2><p>Dit bewaren wij:</p>{held}"
        f"<p>{reads}</p></div></section>\n",
        f"<section>{icon('huis')}<div><h2>Wie ziet uw gegevens?</h2>{who}"
        + "".join(f"<p>{line}</p>" for line in until)
        + "</div></section>\n",
        f"<section>{icon('sleutel')}<div><h2>Uw rechten</h2>{rights}{buttons}"
        "<p>Vraagt u om uw gegevens of om wissen? Dan vragen wij het aan alle bibliotheken in uw gemeente.</p>"
        "</div></section>\n",
    ]


def change_recorded(kind: ParticipantChangeKind, already: bool) -> str:
    what = RIGHTS_ASKED.get(kind) or (
        "U kunt niet komen." if kind is ParticipantChangeKind.CANCEL else "U wilt een andere dag."
    )
    said = "Dat wisten we al." if already else "Dat hebben we nu genoteerd."
    body = (
        "<h1>Dank u wel</h1>\n"
        + section("vinkje", "Wij weten het", f"{what} {said}", "Wij bellen u zo snel als we kunnen.")
        + '<p class="niet-printen"><a href="/p">Terug naar het begin</a></p>'
    )
    return document("Dank u wel", body)


def not_found() -> str:
    return code_form(message="Deze code kennen we niet. Kijk goed en typ de code nog een keer.")


def erased(at: datetime | None) -> str:
    """The library erased what it held about them (on their request, or when its time to keep it had passed)."""
    when = f"Dat deden wij op {long_date(at.astimezone(LOCAL_TIME).date())}." if at is not None else ""
    body = (
        "<h1>Uw gegevens zijn gewist</h1>\n"
        + section(
            "vinkje",
            "Wat is er gebeurd?",
            f"Wij hebben uw gegevens gewist. {when}".strip(),
            "Wij weten niets meer van u. Deze code werkt nu niet meer.",
        )
        + section("vraag", "Een vraag?", "Bel dan de bibliotheek.")
    )
    return document("Uw gegevens zijn gewist", body)


def nothing_to_change(code: str) -> str:
    """They asked to change an appointment of a referral that has closed: there is none any more."""
    body = (
        "<h1>Uw afspraak is al voorbij</h1>\n"
        + section("agenda", "Wat nu?", "U hebt geen afspraak meer. Er is dus niets te veranderen.")
        + section("sleutel", "Uw gegevens", "U kunt nog wel om uw gegevens vragen. Dat doet u op uw pagina.")
        + '<form method="post" action="/p">'
        f'<input type="hidden" name="code" value="{escape(code)}">'
        '<button type="submit">Naar mijn pagina</button></form>'
    )
    return document("Uw afspraak is al voorbij", body)


def locked(retry_after: int) -> str:
    minutes = max(1, (retry_after + 59) // 60)
    wait = "een minuut" if minutes == 1 else f"{minutes} minuten"
    body = "<h1>Even wachten</h1>\n" + section(
        "klok",
        "Te vaak geprobeerd",
        "U typte te vaak een code die niet klopt.",
        f"Probeer het over {wait} nog een keer.",
        "Lukt het niet? Bel dan de bibliotheek.",
    )
    return document("Even wachten", body)


def printable_card(issued: ParticipantCodeIssued, base_url: str) -> str:
    """What staff print and hand over at the intake: the code and where to type it; no name, no QR code."""
    base = base_url.rstrip("/")
    body = (
        "<h1>Uw persoonlijke code</h1>\n"
        + section("sleutel", "Uw code", f'<span class="groot">{escape(issued.code)}</span>')
        + section(
            "vraag",
            "Hoe werkt het?",
            f"Ga op uw telefoon of computer naar: {escape(base)}/p",
            "Typ daar uw code. Dan ziet u uw afspraak.",
            f"Of ga meteen naar: {escape(base + issued.path)}",
        )
        + section("persoon", "Let op", "Bewaar dit papier goed.", "Geef de code niet aan een ander.")
    )
    return document("Uw persoonlijke code", body, read_aloud=False)
