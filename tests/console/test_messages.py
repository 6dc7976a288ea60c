"""The message catalogues (the console's and the public calendar's): both languages complete, every key a template
or page asks for present, every code labelled, plurals by each language's rule."""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gateway.calendar import words as calendar
from gateway.console import explain
from gateway.console.access_log import LOGS as ACCESS_LOGS
from gateway.console.api_keys import SCOPES as API_SCOPES
from gateway.console.applicants import DONE as APPLICANT_DONE
from gateway.console.assignments import DONE as ASSIGNMENT_DONE
from gateway.console.budget import DONE as BUDGET_DONE
from gateway.console.course_pages import DONE as COURSE_DONE
from gateway.console.course_pages import STEPS as COURSE_STEPS
from gateway.console.duplicates import FILTERS as DUPLICATE_FILTERS
from gateway.console.forms import STEPS
from gateway.console.messages import LANGUAGES, MESSAGES, NL, translate
from gateway.console.organisation import ACTIONS as PARTNER_ACTIONS
from gateway.console.organisation import FIELD_LABELS
from gateway.console.purchase_steps import ALL_STEPS as PURCHASE_STEPS
from gateway.console.referrals import HISTORY_STEPS
from gateway.console.session_pages import DONE as SESSION_DONE
from gateway.console.session_pages import STEPS as SESSION_STEPS
from gateway.console.subscriptions import EVENT_TYPES, WEBHOOK_NOTICES
from gateway.console.training import DONE as TRAINING_DONE
from gateway.console.vacancies import DONE as VACANCY_DONE
from gateway.console.views import NAVIGATION, Formats
from shared.contracts.courses.api.courses import CourseStatus, SessionStatus
from shared.contracts.courses.api.public import RegistrationState, RegistrationStep
from shared.contracts.courses.api.purchasing import ProviderStanding, PurchaseStatus
from shared.contracts.courses.events import Audience, CourseFormat, LibraryContribution, LocationKind
from shared.contracts.partners.api.feeds import DeliveryStatus, WebhookStatus
from shared.contracts.partners.api.organisations import AddressKind, ContactRole, PartnerStatus, PartnerStep
from shared.contracts.partners.api.partnerships import Contribution, PartnershipRole, PartnershipStatus, PartnershipStep
from shared.contracts.partners.events import PartnerKind
from shared.contracts.referrals.api.participant_data import AccessPurpose
from shared.contracts.referrals.api.participant_page import ParticipantChangeKind
from shared.contracts.referrals.api.referrals import (
    Arrival,
    ConsentState,
    ContactChannel,
    ReferralDirection,
    ReferralStatus,
    Withholding,
)
from shared.contracts.referrals.events import (
    ConsentSide,
    DeclineReason,
    RevocationChannel,
    SharedData,
    WithdrawReason,
)
from shared.contracts.vocabulary import SkillArea
from shared.contracts.volunteers.api.access_log import VolunteerReadPurpose
from shared.contracts.volunteers.api.assignments import AssignmentStatus, HoursChange
from shared.contracts.volunteers.api.vacancies import VacancyStatus, VacancyStep
from shared.contracts.volunteers.api.volunteers import CertificateStatus, VolunteerStatus, VolunteerStep
from shared.contracts.volunteers.events import AssignmentKind, ModuleDelivery
from shared.tenancy import Role

TEMPLATES = Path(explain.__file__).parent / "templates"
SOURCES = Path(explain.__file__).parent
CALENDAR = Path(calendar.__file__).parent
DOMAINS = {"console": MESSAGES, "calendar": calendar.MESSAGES}

LABELLED: list[tuple[str, type[enum.Enum]]] = [
    ("status.", ReferralStatus),
    ("direction.", ReferralDirection),
    ("area.", SkillArea),
    ("channel.", ContactChannel),
    ("decline.", DeclineReason),
    ("withdraw.", WithdrawReason),
    ("shared.", SharedData),
    ("arrival.", Arrival),
    ("told_via.", RevocationChannel),
    ("consent_side.", ConsentSide),
    ("consent_state.", ConsentState),
    ("withheld.", Withholding),
    ("kind.", PartnerKind),
    ("partner_status.", PartnerStatus),
    ("partnership_status.", PartnershipStatus),
    ("partnership_role.", PartnershipRole),
    ("contribution.", Contribution),
    ("contact_role.", ContactRole),
    ("address_kind.", AddressKind),
    ("webhook_status.", WebhookStatus),
    ("delivery_status.", DeliveryStatus),
    ("vacancy_status.", VacancyStatus),
    ("volunteer_status.", VolunteerStatus),
    ("volunteer_step.", VolunteerStep),
    ("certificate.", CertificateStatus),
    ("audience.", Audience),
    ("format.", CourseFormat),
    ("course_status.", CourseStatus),
    ("session_status.", SessionStatus),
    ("location_kind.", LocationKind),
    ("library_contribution.", LibraryContribution),
    ("purchase_status.", PurchaseStatus),
    ("role.", Role),
    ("who.", Role),
    ("request_kind.", ParticipantChangeKind),
    ("volunteer_read.", VolunteerReadPurpose),
    ("standing.", ProviderStanding),
    ("access_read.", AccessPurpose),
    ("delivery.", ModuleDelivery),
    ("assignment_kind.", AssignmentKind),
    ("assignment_status.", AssignmentStatus),
    ("hours_change.", HoursChange),
]


@pytest.mark.parametrize("domain", DOMAINS)
def test_dutch_and_english_have_the_same_keys_and_plurals(domain: str) -> None:
    dutch, english = (DOMAINS[domain].words[lang] for lang in ("nl", "en"))
    assert sorted(set(dutch) - set(english)) == []
    assert sorted(set(english) - set(dutch)) == []
    assert DOMAINS[domain].plural_keys["nl"] == DOMAINS[domain].plural_keys["en"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_sentence_has_the_same_placeholders_in_both_languages(domain: str) -> None:
    def placeholders(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)\}", text))

    dutch, english = (DOMAINS[domain].words[lang] for lang in ("nl", "en"))
    differing = [key for key in dutch if placeholders(dutch[key]) != placeholders(english[key])]
    assert differing == []


@pytest.mark.parametrize(("prefix", "codes"), LABELLED, ids=[prefix for prefix, _ in LABELLED])
def test_every_code_a_page_shows_has_a_label(prefix: str, codes: type[enum.Enum]) -> None:
    missing = [f"{prefix}{code.value}" for code in codes if f"{prefix}{code.value}" not in NL]
    assert missing == []


def test_every_key_a_template_or_page_asks_for_exists() -> None:
    asked: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        asked.update(re.findall(r"\bt\('([a-z0-9_.\-*]+)'(?!\s*~)", template.read_text()))
    for source in SOURCES.glob("*.py"):
        asked.update(re.findall(r"\bt\(\"([a-z0-9_.\-*]+)\"", source.read_text()))
    asked.update(item.key for items in NAVIGATION.values() for item in items)
    asked.update(f"step.{step}" for step in STEPS)
    asked.update(f"step.{step}_button" for step in STEPS)
    asked.update(f"done.{step}" for step in (*STEPS, "submitted", "volunteer_step"))
    asked.update(f"event_type.{event_type}" for event_type in EVENT_TYPES)
    asked.update(f"access_log.of_{log}" for log in ACCESS_LOGS)
    asked.update(f"partner_action.{action}" for action in PARTNER_ACTIONS)
    asked.update(FIELD_LABELS.values())
    asked.update(f"done.{done}" for done in BUDGET_DONE)
    asked.update(f"course_step.{step}" for step in COURSE_STEPS)
    asked.update(f"course_done.{done}" for done in COURSE_DONE)
    asked.update(f"session_step.{step}" for step in SESSION_STEPS)
    asked.update(f"session_done.{done}" for done in SESSION_DONE)
    asked.update({"budget_page.change_appointed", "budget_page.change_removed"})
    asked.update(f"{kind}.{step}" for kind in ("purchase_step", "purchase_done") for step in PURCHASE_STEPS)
    asked.update(f"webhook.to_{status}{means}" for status in ("active", "paused") for means in ("", "_means"))
    asked.update(f"done.{notice}" for notice in WEBHOOK_NOTICES)
    asked.update(f"api_scope.{scope.replace(':', '-')}" for scope in API_SCOPES)
    asked.update(f"partner_step.{step.value}{means}" for step in PartnerStep for means in ("", "_means"))
    asked.update(f"partnership_step.{step.value}{means}" for step in PartnershipStep for means in ("", "_means"))
    asked.update(f"duplicates_page.{kind}_{shown}" for kind in ("show", "none") for shown in DUPLICATE_FILTERS)
    asked.update(f"history.{step}" for step in HISTORY_STEPS if step != "request_notification")  # its own words
    asked.update(f"vacancy_step.{step.value}{means}" for step in VacancyStep for means in ("", "_means"))
    asked.update(f"vacancy_done.{done}" for done in VACANCY_DONE)
    asked.update(f"applicant_done.{done}" for done in APPLICANT_DONE)
    asked.update(f"training_done.{done}" for done in TRAINING_DONE)
    asked.update(f"assignment_done.{done}" for done in ASSIGNMENT_DONE)
    asked.update(f"problem.{code}" for code in explain.KNOWN_CODES)
    asked.update(f"lang.{lang}" for lang in LANGUAGES)
    for role in ("staff", "coordinator", "partner"):
        asked.update({f"inbox.title_{role}", f"inbox.lead_{role}"})
    asked.update(
        f"inbox.{kind}_{section}" for kind in ("section", "empty") for section in ("incoming", "outgoing", "all")
    )
    asked.update({"submit.lead_staff", "submit.lead_partner"})
    assert sorted(asked - set(NL)) == []


def test_a_missing_sentence_falls_back_to_dutch_then_to_its_key() -> None:
    assert translate("en", "nav.overview") == "Overview"
    assert translate("fr", "nav.overview") == "Overzicht"
    assert translate("en", "no.such.key") == "no.such.key"
    assert translate("nl", "inbox.polling", seconds=3) == "Deze lijst wordt elke 3 seconden bijgewerkt."


@pytest.mark.parametrize(
    ("lang", "one", "many"),
    [
        ("nl", "1 mislukte aflevering wordt opnieuw verstuurd.", "3 mislukte afleveringen worden opnieuw verstuurd."),
        ("en", "1 failed delivery is being sent again.", "3 failed deliveries are being sent again."),
    ],
)
def test_a_count_takes_the_plural_form_of_its_language(lang: str, one: str, many: str) -> None:
    assert translate(lang, "deliveries.replayed", count=1) == one
    assert translate(lang, "deliveries.replayed", count=3) == many
    assert translate(lang, "deliveries.replayed", count=0) == many.replace("3", "0")


def test_dates_and_months_are_written_as_each_language_writes_them() -> None:
    moment = datetime(2026, 3, 5, 13, 30, tzinfo=UTC)  # 14:30 in Amsterdam (winter time)
    dutch, english = Formats("nl"), Formats("en")

    assert (dutch.date(moment), dutch.datetime(moment)) == ("05-03-2026", "05-03-2026 14:30")
    assert (english.date(moment), english.datetime(moment)) == ("2026-03-05", "2026-03-05 14:30")
    assert [dutch.month(date(2026, m, 1)) for m in (3, 5, 10)] == ["mrt 2026", "mei 2026", "okt 2026"]
    assert [english.month(date(2026, m, 1)) for m in (3, 5, 10)] == ["Mar 2026", "May 2026", "Oct 2026"]


def test_every_key_the_public_calendar_asks_for_exists() -> None:
    asked: set[str] = set()
    for template in (CALENDAR / "templates").glob("*.html"):
        asked.update(re.findall(r"\bt\('([a-z0-9_.\-]+)'(?!\s*~)", template.read_text()))
    for source in CALENDAR.glob("*.py"):
        asked.update(re.findall(r"\b(?:t\(|translate\(lang, )\"([a-z0-9_.\-]+)\"", source.read_text()))
    assert {"courses", "online", "places_free", "too_many_line"} <= asked  # the patterns find both kinds of call
    asked.update({"check_mail.sent", "check_mail.click", "check_mail.spam"})
    asked.update(f"error.{field}" for field in ("name", "email", "phone"))
    asked.update(f"{kind}.{step}" for kind in ("step", "done") for step in RegistrationStep)
    asked.update(f"state.{state}" for state in RegistrationState)
    asked.update(f"state.cancelled.{reason}" for reason in ("offer_lapsed", "session_cancelled"))
    asked.update(f"skill.{area}" for area in calendar.SKILL_AREAS)
    asked.update(f"audience.{audience}" for audience in calendar.AUDIENCES)
    assert sorted(asked - set(calendar.MESSAGES.words["nl"])) == []


@pytest.mark.parametrize(
    ("lang", "key", "one", "many"),
    [
        ("nl", "places_free", "Nog 1 plek vrij.", "Nog 3 plekken vrij."),
        ("en", "places_free", "1 place left.", "3 places left."),
        ("nl", "found", "1 cursus gevonden", "3 cursussen gevonden"),
        ("en", "meetings", "1 meeting", "3 meetings"),
    ],
)
def test_the_calendars_counts_take_the_plural_form_of_their_language(lang: str, key: str, one: str, many: str) -> None:
    assert calendar.translate(lang, key, count=1) == one
    assert calendar.translate(lang, key, count=3) == many
    assert calendar.translate(lang, key, count=0) == many.replace("3", "0")
