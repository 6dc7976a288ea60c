"""The console's words: gettext catalogues per language (gateway/console/locale/<lang>/LC_MESSAGES/console.po)
read with Babel, which also gives the dates, month names and plural rules of each language.

Dutch is the default; English is the other language. Every sentence a page shows is in the catalogues, none in
templates; a sentence with a `count` has a plural form, chosen by the language's own plural rule.
`tests/console/test_messages.py` checks that both catalogues have the same keys, that every key a template asks
for exists, and that every value of the enums the pages show has a label.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DEFAULT_LANGUAGE = "nl"
LANGUAGES = ("nl", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "console"


def read_catalogue(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=lang, domain=DOMAIN)


def _translations(catalogue: Catalog) -> Translations:
    """gettext's own lookup (with the plural rule of the catalogue's language), compiled in memory."""
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _words(catalogue: Catalog) -> dict[str, str]:
    """Key → sentence; for a plural, its last (the "many") form."""
    words: dict[str, str] = {}
    for message in catalogue:
        if not message.id:
            continue  # the header
        key = message.id if isinstance(message.id, str) else message.id[0]
        forms = [message.string] if isinstance(message.string, str) else list(message.string or ())
        words[key] = str(forms[-1]) if forms else key
    return words


_CATALOGUES = {lang: read_catalogue(lang) for lang in LANGUAGES}
CATALOGUES: dict[str, dict[str, str]] = {lang: _words(catalogue) for lang, catalogue in _CATALOGUES.items()}
PLURAL_KEYS: dict[str, frozenset[str]] = {
    lang: frozenset(m.id[0] for m in catalogue if m.pluralizable) for lang, catalogue in _CATALOGUES.items()
}
TRANSLATIONS: dict[str, Translations] = {lang: _translations(catalogue) for lang, catalogue in _CATALOGUES.items()}
NL = CATALOGUES["nl"]
EN = CATALOGUES["en"]


def translate(lang: str, key: str, **values: Any) -> str:
    """The sentence for `key` in `lang` (Dutch where a language lacks it), with `{placeholders}` filled in; a key
    with plural forms takes the one the language's rule gives for `count`."""
    lang = lang if lang in CATALOGUES and key in CATALOGUES[lang] else DEFAULT_LANGUAGE
    if key in PLURAL_KEYS[lang] and isinstance(values.get("count"), int):
        text = TRANSLATIONS[lang].ngettext(key, key, values["count"])
    else:
        text = CATALOGUES[lang].get(key) or key
    return text.format(**values) if values else text
