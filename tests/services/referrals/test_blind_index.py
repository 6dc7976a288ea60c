"""The blind index without servers (services/referrals/blind_index.py): names normalised, the Dutch phonetic key,
near matches by their keyed digests, and the decisions' table."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest

from services.referrals.blind_index import (
    NEAR_MATCH,
    BlindIndex,
    decide,
    jaccard,
    name_features,
    normalise_name,
    phonetic,
)
from shared.contracts.referrals.api.duplicates import (
    DuplicateDecision,
    DuplicateStep,
)
from shared.errors import IllegalTransition
from shared.personal_data import HmacSha256

BORN = date(1984, 3, 2)
INDEX = BlindIndex("a key for the tests only")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("El Amrani, Fatima", "Fatima el Amrani"),  # order and comma
        ("Fátima  EL-Amrani", "fatima el amrani"),  # accents, case, hyphen, spaces
        ("Renée d'Ancona", "Renee dAncona"),  # an apostrophe joins
        ("Ömer   Yılmaz", "Omer Yılmaz"),
    ],
)
def test_names_that_differ_only_in_form_normalise_to_the_same_parts(one: str, other: str) -> None:
    assert normalise_name(one) == normalise_name(other)
    assert INDEX.keys_for(one, BORN) == INDEX.keys_for(other, BORN)


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("meijer", "meyer"),
        ("meyer", "meyer"),
        ("claassen", "klasen"),
        ("philips", "filips"),
        ("schmidt", "sgmit"),
        ("van", "fan"),
        ("zwart", "swart"),
        ("pauw", "pouw"),
        ("heijden", "heyden"),
        ("smidt", "smit"),
        ("ruud", "rut"),
    ],
)
def test_the_dutch_phonetic_key_merges_spellings_of_one_sound(spelling: str, key: str) -> None:
    assert phonetic(spelling) == key


def score(one: str, other: str, born: date = BORN, other_born: date = BORN) -> float:
    a, b = INDEX.keys_for(one, born), INDEX.keys_for(other, other_born)
    assert a is not None and b is not None
    return jaccard(a.features, b.features)


@pytest.mark.parametrize(
    ("one", "other", "near"),
    [
        ("Fatima El Amrani", "Fatma El Amrani", True),  # a letter dropped
        ("Fatima El Amrani", "Fatima El Amrany", True),
        ("Piet Meijer", "Piet Meyer", True),  # a spelling variant
        ("Kees Jansen", "Kees Janssen", True),
        ("Mohammed Bouzid", "Mohamed Bouzid", True),
        ("Fatima El Amrani", "Samira El Amrani", False),  # a sister
        ("Fatima El Amrani", "Fatima Bakker", False),  # a namesake
        ("Kees Jansen", "Klaas Jansen", False),
    ],
)
def test_typing_errors_are_near_matches_and_other_people_are_not(one: str, other: str, near: bool) -> None:
    assert (score(one, other) >= NEAR_MATCH) is near


def test_another_birth_date_shares_no_digest_at_all() -> None:
    a, b = INDEX.keys_for("Fatima El Amrani", BORN), INDEX.keys_for("Fatima El Amrani", date(1984, 3, 3))
    assert a is not None and b is not None
    assert a.exact != b.exact and not a.features & b.features


def test_digests_depend_on_the_key_and_do_not_contain_the_name() -> None:
    keys = INDEX.keys_for("Fatima El Amrani", BORN)
    other_key = BlindIndex("another key").keys_for("Fatima El Amrani", BORN)
    assert keys is not None and other_key is not None
    assert keys.exact != other_key.exact and not keys.features & other_key.features
    for digest in [keys.exact, *keys.features]:
        assert len(digest) == 32 and b"fatima" not in digest.lower() and b"1984" not in digest


def test_without_a_birth_date_or_a_key_there_is_no_index() -> None:
    assert INDEX.keys_for("Fatima El Amrani", None) is None
    assert INDEX.keys_for(" ,. ", BORN) is None
    with pytest.raises(ValueError, match="PARTNERNET_BLIND_INDEX_KEY"):
        BlindIndex("")


@pytest.mark.parametrize(
    ("current", "step", "after"),
    [
        (DuplicateDecision.OPEN, DuplicateStep.LINK, DuplicateDecision.LINKED),
        (DuplicateDecision.OPEN, DuplicateStep.SEPARATE, DuplicateDecision.SEPARATE),
        (DuplicateDecision.LINKED, DuplicateStep.SEPARATE, DuplicateDecision.SEPARATE),
        (DuplicateDecision.SEPARATE, DuplicateStep.LINK, DuplicateDecision.LINKED),
        (DuplicateDecision.LINKED, DuplicateStep.LINK, None),
        (DuplicateDecision.SEPARATE, DuplicateStep.SEPARATE, None),
    ],
)
def test_decisions_follow_their_table(
    current: DuplicateDecision, step: DuplicateStep, after: DuplicateDecision | None
) -> None:
    if after is None:
        with pytest.raises(IllegalTransition, match=current.value):
            decide(current, step)
    else:
        assert decide(current, step) is after


@pytest.mark.parametrize("key", [b"", b"k" * 32, bytes(range(64)), b"a key longer than the block " * 4])
@pytest.mark.parametrize("message", [b"", b"1984-03-02|t:^fa", bytes(range(256)) * 3])
def test_the_precomputed_hmac_is_hmac_sha256(key: bytes, message: bytes) -> None:
    assert HmacSha256(key).digest(message) == hmac.digest(key, message, "sha256")


def test_the_digests_are_the_ones_already_stored() -> None:
    """Written as the index always made them (hmac.new per digest), so referrals indexed before still match."""
    root = b"a key for the tests only"
    exact_key = hmac.new(root, b"partnernet blind index: exact v1", hashlib.sha256).digest()
    feature_key = hmac.new(root, b"partnernet blind index: features v1", hashlib.sha256).digest()
    keys = INDEX.keys_for("Fatima El Amrani", BORN)
    assert keys is not None
    assert keys.exact == hmac.new(exact_key, b"1984-03-02|amrani el fatima", hashlib.sha256).digest()
    features = {"p:fatima", "t:^fa", "t:ma$", "s:^el", "t:ran", "s:ni$"} & name_features(["amrani", "el", "fatima"])
    assert len(features) == 6
    for feature in features:
        assert hmac.new(feature_key, f"1984-03-02|{feature}".encode(), hashlib.sha256).digest() in keys.features
    assert len(keys.features) == len(name_features(["amrani", "el", "fatima"])) == 31
