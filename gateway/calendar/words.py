"""The public calendar's words in Dutch (the default) and English: gettext catalogues
(gateway/calendar/locale/<lang>/LC_MESSAGES/calendar.po) through the gateway's one loader (gateway/messages.py), and
the days' names from Babel. Plain language: the people these courses are for read them, many in their second
language."""

from __future__ import annotations

from pathlib import Path

from babel.dates import get_day_names

from gateway.messages import LANGUAGES, Messages
from shared.contracts.courses.events import Audience
from shared.contracts.vocabulary import SkillArea

MESSAGES = Messages(Path(__file__).resolve().parent / "locale", "calendar")
translate = MESSAGES.translate

# The days' names are Babel's (CLDR), Monday first as `date.weekday()` counts.
WEEKDAYS = {lang: [get_day_names("wide", locale=lang)[day] for day in range(7)] for lang in LANGUAGES}

# What a resident may choose from, in the order the filters list them (each labelled `skill.…`, `audience.…`).
SKILL_AREAS = tuple(SkillArea)
AUDIENCES = (
    Audience.JOB_SEEKERS,
    Audience.SENIORS,
    Audience.NEWCOMERS,
    Audience.PARENTS,
    Audience.YOUTH,
    Audience.GENERAL_PUBLIC,
)  # not the courses for partners', libraries' staff or volunteers
