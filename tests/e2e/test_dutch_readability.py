"""The participant's page is checked at B1 with the Flesch–Douma score (tests/e2e/test_participant_page.py): here
the measure itself, its Dutch syllable counter and that it tells an easy sentence from officialese."""

from __future__ import annotations

from tests.e2e.participant_support import flesch_douma, syllables


def test_the_syllable_counter_knows_dutch_vowel_sounds() -> None:
    assert [syllables(w) for w in ("bibliotheek", "afspraak", "nieuw", "mooi", "bijna", "uur", "de", "knop")] == [
        4,
        2,
        1,
        1,
        2,
        1,
        1,
        1,
    ]
    assert flesch_douma(["De kat zit op de mat."]) > 100
    long_sentence = "Overeenkomstig de verwerkingsvoorwaarden geschiedt terugkoppeling uitsluitend schriftelijk."
    assert flesch_douma([long_sentence]) < 0
