"""What the participant page's tests share: a referral with its intake planned and its personal code, a client of
its own address for `/p` (so one test's lockout never reaches another), and the page's visible text with its
Flesch–Douma readability score (a Dutch syllable counter)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx

from services.referrals.store import participants as participant_store
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.waiting import PATIENCE_SECONDS, eventually

PERSON = {"name": "Fatima El Amrani", "birth_date": "1984-03-02", "phone": "0612345678"}


INTAKE_AT = (datetime.now(UTC) + timedelta(days=9)).replace(hour=8, minute=30, second=0, microsecond=0)


LIBRARY_PHONE = "010 123 45 67"


# Every test talks to /p from an address of its own (the whole of 127/8 is this machine), so the lockout
# one test provokes never reaches another; the browser, which always comes from 127.0.0.1, has that one.
_addresses = (f"127.0.{n // 250}.{n % 250 + 2}" for n in itertools.count(250))


def participant(platform: RunningPlatform) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=next(_addresses))
    return httpx.AsyncClient(base_url=platform.base_url, transport=transport, timeout=PATIENCE_SECONDS)


# Vowel sounds spelled with more letters: each one syllable ("nieuw", "mooi", "bijna", "huis").
TRIGRAPHS = ("aai", "ooi", "oei", "eeu", "ieu")


DIGRAPHS = ("ij", "ei", "ui", "oe", "ou", "au", "eu", "ie", "aa", "ee", "oo", "uu")


VOWELS = frozenset("aeiouyáéíóúàèëïöüâêîôû")


WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")  # numbers (dates, times, phone numbers) are not words


def syllables(word: str) -> int:
    """Vowel groups, where the Dutch digraphs above count once and other neighbouring vowels apart
    ("bi-bli-o-theek": 4; "nieuw": 1)."""
    word, count, i = word.lower(), 0, 0
    while i < len(word):
        if word[i] not in VOWELS:
            i += 1
            continue
        i += 3 if word[i : i + 3] in TRIGRAPHS else 2 if word[i : i + 2] in DIGRAPHS else 1
        count += 1
    return max(1, count)


def flesch_douma(blocks: list[str]) -> float:
    """206.835 − 0.93 · (words / sentences) − 77 · (syllables / words); a heading or button is a sentence."""
    sentences = words = syllable_count = 0
    for block in blocks:
        for sentence in re.split(r"(?<=[.!?])\s+", block.strip()):
            found = WORD.findall(sentence)
            if found:
                sentences += 1
                words += len(found)
                syllable_count += sum(syllables(w) for w in found)
    assert sentences and words, "no text to measure"
    return 206.835 - 0.93 * words / sentences - 77 * syllable_count / words


# Douma's scale: 60–70 is "standard" text, 70–80 "fairly easy", 80+ "easy". Plain-language guidance for Dutch
# (B1, "taalniveau 2F") puts B1 texts at 60 and above; the page is meant to be easy for readers below B1 as
# well, so it must reach "fairly easy" (70). The heading-per-sentence count flatters the score a little,
# which the 10 points above the B1 floor more than absorb.
EASY_ENOUGH = 70.0


class VisibleText(HTMLParser):
    """The text a reader sees, one block per heading, paragraph, label or button."""

    BLOCKS = frozenset({"h1", "h2", "p", "label", "button", "li"})

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._current: list[str] | None = None
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._hidden += 1
        if tag in self.BLOCKS:
            self._current = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._hidden -= 1
        if tag in self.BLOCKS and self._current is not None:
            self.blocks.append(" ".join("".join(self._current).split()))
            self._current = None

    def handle_data(self, data: str) -> None:
        if not self._hidden and self._current is not None:
            self._current.append(data)


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return [block for block in parser.blocks if block]


async def planned_referral(
    platform: RunningPlatform, tenant: Tenant, *, place: str = "Centrale bibliotheek, Marktplein 1", **person: str
) -> dict[str, Any]:
    async with platform.client(tenant.partner_a_token) as partner, platform.client(tenant.staff_a) as staff:
        body = referral_body(tenant.library_a, tenant.partner_a, participant={**PERSON, **person})
        submitted = await partner.post("/api/v1/referrals", json=body)
        assert submitted.status_code == 201, submitted.text
        referral_id = submitted.json()["id"]
        assert (await staff.post(f"/api/v1/referrals/{referral_id}/accept")).status_code == 200
        intake = {
            "intake_at": INTAKE_AT.isoformat(),
            "place": place,
            "contact_person": {"name": "Sanne de Vries", "phone": "010 765 43 21"},
        }
        planned = await staff.post(f"/api/v1/referrals/{referral_id}/plan-intake", json=intake)
        assert planned.status_code == 200, planned.text
    return dict(planned.json())


async def issue_code(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> dict[str, Any]:
    async with platform.client(tenant.staff_a) as staff:
        issued = await staff.post(
            f"/api/v1/referrals/{referral_id}/participant-code", json={"contact_phone": LIBRARY_PHONE}
        )
    assert issued.status_code == 201, issued.text
    return dict(issued.json())


async def library_name_known(platform: RunningPlatform, library: str) -> str:
    async def name() -> str | None:
        async with platform.services["referrals"].sessions() as session:
            return await participant_store.library_name(session, library)

    return await eventually(name, what="the referrals service to learn the library's name")
