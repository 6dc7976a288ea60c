"""The console's words, one catalogue per language (nl.py, en.py): every sentence a page shows, none in templates.

Dutch is the default; English is the other language. `tests/console/test_messages.py` checks that both
catalogues have the same keys, that every key a template asks for exists, and that every value of the
enums the pages show has a label.
"""

from __future__ import annotations

from typing import Any

from gateway.console.messages.en import EN
from gateway.console.messages.nl import NL

DEFAULT_LANGUAGE = "nl"
LANGUAGES = ("nl", "en")

CATALOGUES: dict[str, dict[str, str]] = {"nl": NL, "en": EN}


def translate(lang: str, key: str, **values: Any) -> str:
    """The sentence for `key` in `lang` (Dutch where a language lacks it), with `{placeholders}` filled in."""
    text = CATALOGUES.get(lang, NL).get(key) or NL.get(key) or key
    return text.format(**values) if values else text
