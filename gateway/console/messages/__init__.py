"""The console's words: gettext catalogues per language (gateway/console/locale/<lang>/LC_MESSAGES/console.po)
through the gateway's one loader (gateway/messages.py), which reads them with Babel; dates and month names come
from Babel too (`Formats` in gateway/console/views.py).

Every sentence a page shows is in the catalogues, none in templates. `tests/console/test_messages.py` checks that
both catalogues have the same keys, that every key a template asks for exists, and that every value of the enums
the pages show has a label.
"""

from __future__ import annotations

from pathlib import Path

from gateway.messages import DEFAULT_LANGUAGE, LANGUAGES, Messages

__all__ = ["DEFAULT_LANGUAGE", "EN", "LANGUAGES", "MESSAGES", "NL", "translate"]

MESSAGES = Messages(Path(__file__).resolve().parent.parent / "locale", "console")
NL = MESSAGES.words["nl"]
EN = MESSAGES.words["en"]
translate = MESSAGES.translate
