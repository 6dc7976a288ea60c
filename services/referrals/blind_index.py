"""The blind index: keyed hashes of a participant's normalised name and birth date, to find possible duplicate
referrals without comparing or storing a name in clear. Pure: no I/O, no clock.

Two kinds of digest, each an HMAC-SHA256 under a key derived from the configured one (so a digest of one kind
never equals one of the other):
- `exact`: the whole normalised name (its parts sorted, so "El Amrani, Fatima" is "Fatima el Amrani") with the
  birth date; equal digests are the same name and birth date.
- `feature`: one per character trigram of each name part (as written and as its Dutch phonetic key) and one
  per phonetic key, each together with the birth date. Two referrals whose feature sets overlap enough
  (Jaccard ≥ `NEAR_MATCH`) are a near match: a typing error, a spelling variant. The birth date inside every
  feature means features only ever meet within one birth date, so the index cannot be counted over the whole
  population (a frequent trigram is not visible as a frequent digest), and a different birth date never matches.
Without the key the digests say nothing: a dictionary of names and dates cannot be hashed to compare.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from shared.contracts.referrals.api.duplicates import DuplicateDecision, DuplicateStep
from shared.errors import Forbidden, IllegalTransition
from shared.personal_data import HmacSha256, normalise_name
from shared.tenancy import Actor, Role

# Measured (tests/services/referrals/test_duplicates.py): one letter dropped ("Fatima El Amrani" / "Fatma El
# Amrani") scores 0.67, a spelling variant ("Piet Meijer" / "Piet Meyer") 0.71, a doubled letter ("Kees Jansen" /
# "Kees Janssen") 0.87; another first name ("Samira El Amrani") 0.41, another surname ("Fatima Bakker") 0.30.
# 0.6 keeps typing errors and spelling variants in, and relatives with another first name out.
NEAR_MATCH = 0.6

T = TypeVar("T")

# Spellings Dutch uses for the same sound, longest first so "ch" is handled before "c".
_PHONETIC_REPLACEMENTS = (
    ("ph", "f"),
    ("ch", "g"),
    ("ij", "y"),
    ("ei", "y"),
    ("au", "ou"),
    ("c", "k"),
    ("z", "s"),
    ("v", "f"),
)
_DOUBLES = re.compile(r"(.)\1+")


def phonetic(part: str) -> str:
    """A simple Dutch phonetic key: ij/ei → y, au → ou, ch → g, c → k, ph → f, z → s, v → f, a final d or
    dt → t, and double letters single. "Meijer" and "Meyer", "Claassen" and "Klasen" get the same key."""
    key = part
    for spelling, sound in _PHONETIC_REPLACEMENTS:
        key = key.replace(spelling, sound)
    if key.endswith("dt"):
        key = key[:-2] + "t"
    elif key.endswith("d"):
        key = key[:-1] + "t"
    return _DOUBLES.sub(r"\1", key)


def trigrams(part: str) -> set[str]:
    """Trigrams of the part with its start and end marked, so short parts and their edges count too."""
    padded = f"^{part}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def name_features(parts: list[str]) -> set[str]:
    """Trigrams of each part as written and as it sounds, and its whole phonetic key: a typing error changes a
    few written trigrams, a spelling variant ("Meijer", "Meyer") few of the sounded ones."""
    features: set[str] = set()
    for part in parts:
        key = phonetic(part)
        written, sounded = f"^{part}$", f"^{key}$"  # `trigrams`, inline: one set, not three per part
        features.update(["t:" + written[i : i + 3] for i in range(len(written) - 2)])
        features.update(["s:" + sounded[i : i + 3] for i in range(len(sounded) - 2)])
        features.add("p:" + key)
    return features


def jaccard(a: AbstractSet[T], b: AbstractSet[T]) -> float:
    return similarity(len(a & b), len(a), len(b))


def similarity(shared: int, mine: int, theirs: int) -> float:
    """Jaccard from counts, as the database gives them: shared / (|A| + |B| − shared)."""
    union = mine + theirs - shared
    return shared / union if union > 0 else 0.0


@dataclass(frozen=True)
class BlindKeys:
    exact: bytes
    features: frozenset[bytes]


class BlindIndex:
    """Derives the digests of one participant; the key never leaves the referrals service."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("no blind index key is configured (PARTNERNET_BLIND_INDEX_KEY)")
        root = key.encode()
        self._exact = HmacSha256(hmac.new(root, b"partnernet blind index: exact v1", hashlib.sha256).digest())
        self._features = HmacSha256(hmac.new(root, b"partnernet blind index: features v1", hashlib.sha256).digest())

    def keys_for(self, name: str, birth_date: date | None) -> BlindKeys | None:
        """None without a birth date or a name: a name alone matches too many people to warn about."""
        parts = normalise_name(name)
        if birth_date is None or not parts:
            return None
        born = birth_date.isoformat()
        exact = self._exact.digest(f"{born}|{' '.join(parts)}".encode())
        digest, dated = self._features.digest, f"{born}|".encode()
        features = frozenset([digest(dated + feature.encode()) for feature in name_features(parts)])
        return BlindKeys(exact=exact, features=features)


# --- staff's decision on a warning ----------------------------------------------------------------


DECISIONS: dict[tuple[DuplicateDecision, DuplicateStep], DuplicateDecision] = {
    (DuplicateDecision.OPEN, DuplicateStep.LINK): DuplicateDecision.LINKED,
    (DuplicateDecision.OPEN, DuplicateStep.SEPARATE): DuplicateDecision.SEPARATE,
    # Second thoughts: a link undone, or a dismissed warning linked after all.
    (DuplicateDecision.LINKED, DuplicateStep.SEPARATE): DuplicateDecision.SEPARATE,
    (DuplicateDecision.SEPARATE, DuplicateStep.LINK): DuplicateDecision.LINKED,
}


def decide(current: DuplicateDecision, step: DuplicateStep) -> DuplicateDecision:
    try:
        return DECISIONS[(current, step)]
    except KeyError:
        raise IllegalTransition(
            f"a warning that is {current.value} cannot be decided as {step.value} again",
            state=current.value,
            step=step.value,
        ) from None


def check_may_handle_duplicates(actor: Actor) -> str:
    """Only staff of a library see and decide its warnings (checked before anything is looked up): a warning
    says that someone has another referral, which is for the library that holds the person's data."""
    if actor.role is not Role.STAFF or actor.library is None:
        raise Forbidden("only staff of the referral's library see and decide possible duplicates")
    return actor.library
