"""The gateway's words: a gettext catalogue per language and domain (`<package>/locale/<lang>/LC_MESSAGES/<domain>.po`,
the console's and the public calendar's), read with Babel, which also gives each language's plural rule.

Dutch is the default; English is the other language. Each msgid is the key a page asks for (`t('…')`), its msgstr
the sentence shown with `{placeholders}` filled in; a sentence with a `count` has plural forms, chosen by the
language's own rule (the catalogue's `Plural-Forms`). Dates, day and month names are Babel's (CLDR) too, where
they are written.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DEFAULT_LANGUAGE = "nl"
LANGUAGES = ("nl", "en")


def read_catalogue(locale_dir: Path, domain: str, lang: str) -> Catalog:
    with (locale_dir / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
        return read_po(po, locale=lang, domain=domain)


def _translations(catalogue: Catalog, domain: str) -> Translations:
    """gettext's own lookup (with the plural rule of the catalogue's language), compiled in memory."""
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


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


class Messages:
    """One domain's catalogues in every language, read once when the gateway starts."""

    def __init__(self, locale_dir: Path, domain: str) -> None:
        catalogues = {lang: read_catalogue(locale_dir, domain, lang) for lang in LANGUAGES}
        self.words: dict[str, dict[str, str]] = {lang: _words(catalogue) for lang, catalogue in catalogues.items()}
        self.plural_keys: dict[str, frozenset[str]] = {
            lang: frozenset(m.id[0] for m in catalogue if m.pluralizable) for lang, catalogue in catalogues.items()
        }
        self.translations = {lang: _translations(catalogue, domain) for lang, catalogue in catalogues.items()}

    def translate(self, lang: str, key: str, **values: Any) -> str:
        """The sentence for `key` in `lang` (Dutch where a language lacks it), with `{placeholders}` filled in; a
        key with plural forms takes the one the language's rule gives for `count`."""
        lang = lang if lang in self.words and key in self.words[lang] else DEFAULT_LANGUAGE
        if key in self.plural_keys[lang] and isinstance(values.get("count"), int):
            text = self.translations[lang].ngettext(key, key, values["count"])
        else:
            text = self.words[lang].get(key) or key
        return text.format(**values) if values else text

    def of(self, lang: str) -> Callable[..., str]:
        """`translate` in one language: the `t` a page's template calls."""
        return partial(self.translate, lang)
