"""The participant's page as HTML: plain Dutch at B1 (short sentences, everyday words), large text, pictograms
as inline SVG, a button that reads the page aloud with the browser's own voice (Web Speech API, nl-NL; no
outside service), and nothing from anywhere else: one self-contained document with a strict CSP.

The texts are checked at B1 with the Flesch–Douma score in tests/e2e/test_participant_page.py; keep a
sentence short and its words common when changing one.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime
from html import escape

from shared.clock import LOCAL_TIME
from shared.contracts.referrals.api.participant_page import (
    HeldData,
    PageParty,
    ParticipantChangeKind,
    ParticipantCodeIssued,
    ParticipantPage,
)
from shared.contracts.referrals.api.referrals import ReferralStatus

DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)

# --- pictograms: drawn with strokes in the text colour, hidden from screen readers (the text says it all) ----

_ICON_PATHS = {
    "huis": '<path d="M4 11 12 4l8 7"/><path d="M6 10v10h12V10"/><path d="M10 20v-5h4v5"/>',
    "agenda": '<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>'
    '<path d="M8 14h3v3H8z"/>',
    "klok": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 3"/>',
    "plek": '<path d="M12 21s-7-6.2-7-11a7 7 0 0 1 14 0c0 4.8-7 11-7 11z"/><circle cx="12" cy="10" r="2.5"/>',
    "persoon": '<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 3.6-7 8-7s8 3 8 7"/>',
    "telefoon": '<path d="M6 3h3l2 5-2.5 1.5a11 11 0 0 0 5 5L15 12l5 2v3a2 2 0 0 1-2 2A15 15 0 0 1 4 5'
    'a2 2 0 0 1 2-2z"/>',
    "luidspreker": '<path d="M4 9h4l5-4v14l-5-4H4z"/><path d="M16 9a4 4 0 0 1 0 6M18.5 6.5a8 8 0 0 1 0 11"/>',
    "sleutel": '<circle cx="8" cy="12" r="4"/><path d="M12 12h9M18 12v3M21 12v2"/>',
    "vraag": '<circle cx="12" cy="12" r="9"/><path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.5V14"/>'
    '<path d="M12 17.5v.01"/>',
    "vinkje": '<circle cx="12" cy="12" r="9"/><path d="m8 12 3 3 5-6"/>',
}


def icon(name: str) -> str:
    return (
        '<svg class="pictogram" viewBox="0 0 24 24" width="48" height="48" aria-hidden="true" focusable="false" '
        'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
        f"{_ICON_PATHS[name]}</svg>"
    )


# --- the document: large text, high contrast, visible focus; one inline style and one inline script ----------

STYLE = """
html { font-size: 125%; }
body { margin: 0; font-family: Verdana, Arial, sans-serif; line-height: 1.6; color: #1a1a1a; background: #fff; }
main { max-width: 38rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.8rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.3rem; margin: 0; }
section { display: flex; gap: 1rem; align-items: flex-start; border-top: 2px solid #d0d0d0; padding: 1rem 0; }
.pictogram { flex: none; width: 3rem; height: 3rem; color: #0b4f8a; }
p { margin: 0.3rem 0; }
.groot { font-size: 1.3rem; font-weight: bold; }
button, .knop { display: inline-block; font: inherit; font-size: 1.1rem; padding: 0.7rem 1.2rem; margin: 0.4rem 0;
  border: 2px solid #0b4f8a; border-radius: 0.5rem; background: #0b4f8a; color: #fff; cursor: pointer;
  text-decoration: none; }
button.tweede { background: #fff; color: #0b4f8a; }
button:focus, input:focus, a:focus { outline: 4px solid #e6a100; outline-offset: 2px; }
label { display: block; font-weight: bold; margin-top: 1rem; }
input { font: inherit; font-size: 1.4rem; letter-spacing: 0.2rem; padding: 0.5rem; width: 12rem;
  border: 2px solid #1a1a1a; border-radius: 0.3rem; text-transform: uppercase; }
a { color: #0b4f8a; }
form { margin: 0.3rem 0; }
@media print { button, form, .niet-printen { display: none; } html { font-size: 140%; } }
"""

# Reads the text of `#voorlezen-tekst` aloud in Dutch with the browser's own voice; the button stays hidden
# where the browser cannot speak, so nobody presses a button that does nothing.
SCRIPT = """
(function () {
  var button = document.getElementById('voorlezen');
  var text = document.getElementById('voorlezen-tekst');
  if (!button || !text || !('speechSynthesis' in window) || typeof SpeechSynthesisUtterance === 'undefined') {
    return;
  }
  button.hidden = false;
  button.addEventListener('click', function () {
    var synth = window.speechSynthesis;
    if (synth.speaking) {
      synth.cancel();
      button.setAttribute('aria-pressed', 'false');
      return;
    }
    var utterance = new SpeechSynthesisUtterance(text.innerText);
    utterance.lang = 'nl-NL';
    utterance.rate = 0.9;
    var voices = synth.getVoices();
    for (var i = 0; i < voices.length; i++) {
      if (voices[i].lang && voices[i].lang.toLowerCase().indexOf('nl') === 0) {
        utterance.voice = voices[i];
        break;
      }
    }
    utterance.onend = function () { button.setAttribute('aria-pressed', 'false'); };
    button.setAttribute('aria-pressed', 'true');
    synth.speak(utterance);
  });
})();
"""


def _sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


# Only this document's own style and script run; nothing is loaded from elsewhere; forms post here only.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

# A code in the address must not travel on in a Referer, be cached, or be indexed.
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


def document(title: str, body: str, *, read_aloud: bool = True) -> str:
    button = (
        '<p><button type="button" id="voorlezen" class="tweede" aria-pressed="false" hidden>'
        f"{icon('luidspreker')} Lees voor</button></p>"
        if read_aloud
        else ""
    )
    return (
        '<!doctype html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        '<link rel="icon" href="data:,">\n'  # no request for a favicon the gateway does not have
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f'{button}<div id="voorlezen-tekst">\n{body}\n</div>\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n'
    )


def _section(pictogram: str, heading: str, *lines: str) -> str:
    text = "".join(f"<p>{line}</p>" for line in lines)
    return f"<section>{icon(pictogram)}<div><h2>{escape(heading)}</h2>{text}</div></section>\n"


def day_and_time(at: datetime) -> tuple[str, str]:
    local = at.astimezone(LOCAL_TIME)
    return f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}", f"{local.hour}.{local.minute:02d}"


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
        + _section("vraag", "Hulp nodig?", "Vraag het aan de bibliotheek. Wij helpen u graag.")
    )
    return document("Uw afspraak", body)


def participant_page(page: ParticipantPage, code: str) -> str:
    """The participant's own referral; their name is not on it (see queries/participant_view.py)."""
    receiver = escape(page.receiver_name or ("de bibliotheek" if page.receiver_kind == "library" else "onze partner"))
    parts = ["<h1>Uw afspraak</h1>\n<p>Hier leest u waar u heen gaat. U kunt de tekst ook laten voorlezen.</p>\n"]
    if page.closed_at is not None:
        return _closed_page(page, code, receiver)
    parts.append(_section("huis", "Bij wie?", f"U gaat naar {receiver}."))
    if page.status is ReferralStatus.ENROLLED:
        parts.append(_section("vinkje", "Hoe gaat het nu?", "U doet mee aan een cursus. Fijn dat u meedoet!"))
    if page.intake_at is not None:
        day, time = day_and_time(page.intake_at)
        parts.append(_section("agenda", "Wanneer?", f'Op <span class="groot">{day}</span>.', f"Om {time} uur."))
        parts.append(_section("plek", "Waar?", f"Kom naar: {escape(page.place or receiver)}."))
        if page.meet_with:
            parts.append(_section("persoon", "Met wie?", f"U praat met {escape(page.meet_with)}."))
    else:
        parts.append(_section("agenda", "Wanneer?", "Dat weten we nog niet.", "We bellen u snel voor een afspraak."))
    parts.append(_change_section(page, code))
    parts += _data_sections(page, code)
    return document("Uw afspraak", "".join(parts))


CLOSED_HOW = {
    ReferralStatus.COMPLETED: "U bent klaar. Fijn dat u meedeed!",
    ReferralStatus.NO_SHOW: "U kwam niet naar de afspraak. De afspraak is nu voorbij.",
}


def _closed_page(page: ParticipantPage, code: str, receiver: str) -> str:
    """After the referral closed: no appointment any more, but what is held, who sees it, and their rights."""
    assert page.closed_at is not None
    day = _date(page.closed_at.astimezone(LOCAL_TIME).date())
    how = CLOSED_HOW.get(page.status) if page.status is not None else None
    lines = [f"U ging naar {receiver}.", how or "Uw aanvraag is gestopt.", f"Dat was op {day}."]
    parts = ["<h1>Uw gegevens</h1>\n<p>Uw aanvraag is klaar. Hier leest u wat wij nog van u weten.</p>\n"]
    parts.append(_section("vinkje", "Hoe ging het?", *lines))
    if page.contact_phone:
        phone = escape(page.contact_phone)
        call = f'Hebt u een vraag? Bel ons dan: <a class="groot" href="tel:{_tel(page.contact_phone)}">{phone}</a>.'
        parts.append(_section("telefoon", "Een vraag?", call))
    parts += _data_sections(page, code)
    return document("Uw gegevens", "".join(parts))


def _change_section(page: ParticipantPage, code: str) -> str:
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


def _date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


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
        return f"{who} Ziet uw gegevens niet meer sinds {_date(party.since.astimezone(LOCAL_TIME).date())}."
    if not party.sees:
        return f"{who} Ziet uw gegevens niet."
    return f"{who} Mag uw gegevens zien tot {_date(until)}." if until else f"{who} Mag uw gegevens zien."


def _data_sections(page: ParticipantPage, code: str) -> list[str]:
    held = _list([HELD[kind] for kind in page.held])
    reads = f"Uw gegevens zijn {page.reads} keer bekeken." if page.reads else "Niemand heeft ze nog bekeken."
    who = _list([_party_line(party, page.shared_until) for party in page.parties])
    until = [CONSENT_ENDED[page.consent_state]] if page.consent_state in CONSENT_ENDED else []
    if not until and page.shared_until is not None:
        until.append(f"U gaf toestemming tot {_date(page.shared_until)}.")
    if page.kept_until is not None:
        until.append(f"Op {_date(page.kept_until.astimezone(LOCAL_TIME).date())} wissen wij uw gegevens.")
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
        + _section("vinkje", "Wij weten het", f"{what} {said}", "Wij bellen u zo snel als we kunnen.")
        + '<p class="niet-printen"><a href="/p">Terug naar het begin</a></p>'
    )
    return document("Dank u wel", body)


def not_found() -> str:
    return code_form(message="Deze code kennen we niet. Kijk goed en typ de code nog een keer.")


def erased(at: datetime | None) -> str:
    """The library erased what it held about them (on their request, or when its time to keep it had passed)."""
    when = f"Dat deden wij op {_date(at.astimezone(LOCAL_TIME).date())}." if at is not None else ""
    body = (
        "<h1>Uw gegevens zijn gewist</h1>\n"
        + _section(
            "vinkje",
            "Wat is er gebeurd?",
            f"Wij hebben uw gegevens gewist. {when}".strip(),
            "Wij weten niets meer van u. Deze code werkt nu niet meer.",
        )
        + _section("vraag", "Een vraag?", "Bel dan de bibliotheek.")
    )
    return document("Uw gegevens zijn gewist", body)


def nothing_to_change(code: str) -> str:
    """They asked to change an appointment of a referral that has closed: there is none any more."""
    body = (
        "<h1>Uw afspraak is al voorbij</h1>\n"
        + _section("agenda", "Wat nu?", "U hebt geen afspraak meer. Er is dus niets te veranderen.")
        + _section("sleutel", "Uw gegevens", "U kunt nog wel om uw gegevens vragen. Dat doet u op uw pagina.")
        + '<form method="post" action="/p">'
        f'<input type="hidden" name="code" value="{escape(code)}">'
        '<button type="submit">Naar mijn pagina</button></form>'
    )
    return document("Uw afspraak is al voorbij", body)


def locked(retry_after: int) -> str:
    minutes = max(1, (retry_after + 59) // 60)
    wait = "een minuut" if minutes == 1 else f"{minutes} minuten"
    body = "<h1>Even wachten</h1>\n" + _section(
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
        + _section("sleutel", "Uw code", f'<span class="groot">{escape(issued.code)}</span>')
        + _section(
            "vraag",
            "Hoe werkt het?",
            f"Ga op uw telefoon of computer naar: {escape(base)}/p",
            "Typ daar uw code. Dan ziet u uw afspraak.",
            f"Of ga meteen naar: {escape(base + issued.path)}",
        )
        + _section("persoon", "Let op", "Bewaar dit papier goed.", "Geef de code niet aan een ander.")
    )
    return document("Uw persoonlijke code", body, read_aloud=False)
