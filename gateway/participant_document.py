"""The frame every page of the participant's shares: one self-contained HTML document with large text, high
contrast and visible focus, its one inline style and one inline script (read aloud with the browser's own voice),
the strict CSP and headers that go with them, pictograms as inline SVG, and dates written out in Dutch.
The pages themselves are gateway/participant_html.py.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime
from html import escape

from shared.clock import LOCAL_TIME

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


def section(pictogram: str, heading: str, *lines: str) -> str:
    text = "".join(f"<p>{line}</p>" for line in lines)
    return f"<section>{icon(pictogram)}<div><h2>{escape(heading)}</h2>{text}</div></section>\n"


def day_and_time(at: datetime) -> tuple[str, str]:
    local = at.astimezone(LOCAL_TIME)
    return f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}", f"{local.hour}.{local.minute:02d}"


def long_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
