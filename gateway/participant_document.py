"""What every page of the participant's shares: its one inline style (large text, high contrast, visible focus)
and one inline script (read aloud with the browser's own voice), the strict CSP and headers that go with them,
and dates written out in Dutch (by Babel, as the console's). The document around them is
gateway/participant_templates/base.html; the pages are gateway/participant_html.py.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime

from babel.dates import format_date

from shared.clock import LOCAL_TIME

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


def day_and_time(at: datetime) -> tuple[str, str]:
    local = at.astimezone(LOCAL_TIME)
    return format_date(local, "EEEE d MMMM", locale="nl"), f"{local.hour}.{local.minute:02d}"


def long_date(day: date) -> str:
    return format_date(day, "d MMMM y", locale="nl")
