"""The console's pages: its Jinja templates with the visitor, its words and formats, and the role's navigation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import msgspec
from babel.dates import format_date, format_datetime
from litestar import Response
from litestar.datastructures import Cookie

from gateway.console.session import PREFIX, Visitor
from gateway.templates import Page
from shared.clock import LOCAL_TIME
from shared.tenancy import Role

# Dates as each language writes them (Babel patterns): Dutch day first, English as ISO.
DATE_PATTERNS = {"nl": "dd-MM-yyyy", "en": "yyyy-MM-dd"}
DATETIME_PATTERNS = {"nl": "dd-MM-yyyy HH:mm", "en": "yyyy-MM-dd HH:mm"}

# HTML `pattern`s (compiled with the `v` flag: punctuation in a class is escaped) as the request types have them.
PATTERNS = {
    "slug_pattern": r"[a-z0-9][a-z0-9\-]{1,62}",
    "phone_pattern": r"\+?[0-9][0-9 \(\)\-]{5,24}",
}


@dataclass(frozen=True)
class NavItem:
    href: str
    key: str  # message key of its label
    section: str  # the page's section, to mark the current one


# What each role may open; the services scope every answer again, this only keeps pages to the point.
NAVIGATION: dict[Role, list[NavItem]] = {
    Role.STAFF: [
        NavItem(f"{PREFIX}/inbox", "nav.inbox", "referrals"),
        NavItem(f"{PREFIX}/referrals/new", "nav.new_referral", "new"),
        NavItem(f"{PREFIX}/network", "nav.network", "network"),
        NavItem(f"{PREFIX}/agreements", "nav.agreements", "agreements"),
        NavItem(f"{PREFIX}/volunteers", "nav.volunteers", "volunteers"),
        NavItem(f"{PREFIX}/people", "nav.people", "people"),
        NavItem(f"{PREFIX}/duplicates", "nav.duplicates", "duplicates"),
        NavItem(f"{PREFIX}/access-log", "nav.access_log", "access_log"),
        NavItem(f"{PREFIX}/referral-policy", "nav.referral_policy", "referral_policy"),
        NavItem(f"{PREFIX}/courses", "nav.courses", "courses"),
        NavItem(f"{PREFIX}/education-requests", "nav.education_requests", "education_requests"),
        NavItem(f"{PREFIX}/purchases", "nav.purchases", "purchases"),
        NavItem(f"{PREFIX}/overview", "nav.overview", "overview"),
        NavItem(f"{PREFIX}/annual-report", "nav.annual_report", "annual_report"),
        NavItem(f"{PREFIX}/notices", "nav.notices", "notices"),
    ],
    Role.COORDINATOR: [
        NavItem(f"{PREFIX}/overview", "nav.overview", "overview"),
        NavItem(f"{PREFIX}/annual-report", "nav.annual_report", "annual_report"),
        NavItem(f"{PREFIX}/inbox", "nav.referrals", "referrals"),
        NavItem(f"{PREFIX}/network", "nav.network", "network"),
        NavItem(f"{PREFIX}/agreements", "nav.agreements", "agreements"),
        NavItem(f"{PREFIX}/volunteers", "nav.volunteers", "volunteers"),
        NavItem(f"{PREFIX}/courses", "nav.courses", "courses"),
        NavItem(f"{PREFIX}/purchases", "nav.budgets", "purchases"),
        NavItem(f"{PREFIX}/referral-policy", "nav.referral_policy", "referral_policy"),
        NavItem(f"{PREFIX}/notices", "nav.notices", "notices"),
    ],
    Role.PARTNER: [
        NavItem(f"{PREFIX}/inbox", "nav.my_referrals", "referrals"),
        NavItem(f"{PREFIX}/referrals/new", "nav.new_referral", "new"),
        NavItem(f"{PREFIX}/courses", "nav.courses", "courses"),
        NavItem(f"{PREFIX}/organisation", "nav.organisation", "organisation"),
        NavItem(f"{PREFIX}/our-people", "nav.our_people", "our_people"),
        NavItem(f"{PREFIX}/education-requests", "nav.education_requests", "education_requests"),
        NavItem(f"{PREFIX}/quotes", "nav.quotes", "quotes"),
        NavItem(f"{PREFIX}/vacancies", "nav.vacancies", "volunteers"),
        NavItem(f"{PREFIX}/training", "nav.training", "training"),
        NavItem(f"{PREFIX}/subscriptions", "nav.subscriptions", "subscriptions"),
        NavItem(f"{PREFIX}/feed", "nav.feed", "feed"),
        NavItem(f"{PREFIX}/api-keys", "nav.api_keys", "api_keys"),
        NavItem(f"{PREFIX}/notices", "nav.notices", "notices"),
    ],
    Role.OPERATOR: [
        NavItem(f"{PREFIX}/overview", "nav.overview", "overview"),
        NavItem(f"{PREFIX}/annual-report", "nav.annual_report", "annual_report"),
        NavItem(f"{PREFIX}/mail", "nav.mail", "mail"),
    ],
}

HOME = {
    Role.STAFF: f"{PREFIX}/inbox",
    Role.COORDINATOR: f"{PREFIX}/overview",
    Role.PARTNER: f"{PREFIX}/inbox",
    Role.OPERATOR: f"{PREFIX}/overview",
}


class Formats:
    """Dates, times and money the way the visitor's language writes them, in the Dutch time zone."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return "–"
        local = value.astimezone(LOCAL_TIME) if value.tzinfo else value
        return format_datetime(local, DATETIME_PATTERNS[self.lang], tzinfo=local.tzinfo, locale=self.lang)

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, dt.datetime) and value.tzinfo:
            value = value.astimezone(LOCAL_TIME)
        return format_date(value, DATE_PATTERNS[self.lang], locale=self.lang)

    def month(self, value: dt.date) -> str:
        """A month as a chart labels it: `mrt 2026` in Dutch, `Mar 2026` in English (Babel's month names)."""
        return format_date(value, "LLL y", locale=self.lang)

    def iso(self, value: dt.datetime | dt.date | None) -> str:
        return value.isoformat() if value is not None else ""

    def money(self, cents: int | None) -> str:
        if cents is None:
            return "–"
        euros, rest = divmod(abs(cents), 100)
        sign = "-" if cents < 0 else ""
        if self.lang == "nl":
            return f"{sign}€ {euros:,}".replace(",", ".") + f",{rest:02d}"
        return f"{sign}€{euros:,}.{rest:02d}"

    def number(self, value: int | float | None) -> str:
        if value is None:
            return "–"
        text = f"{value:,.0f}" if isinstance(value, int) or float(value).is_integer() else f"{value:,.1f}"
        return text.replace(",", "\u2009") if self.lang == "nl" else text


def page(
    visitor: Visitor,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Response[Any]:
    """A console page (or a part of one htmx swaps in): the template with the visitor, its words, formats and
    the role's navigation, rendered by the app's template engine (gateway/templates.py)."""
    actor = visitor.actor
    shown = {
        "v": visitor,
        "t": visitor.t,
        "f": Formats(visitor.lang),
        "nav": NAVIGATION.get(actor.role, []) if actor else [],
        "prefix": PREFIX,
        **PATTERNS,
        **context,
    }
    return Page(f"console/{template}", shown).response(status, headers, cookies)


def download(document: Any, filename: str) -> Response[bytes]:
    """A JSON document to save (an export of personal data): never cached; no name of a person in `filename`,
    which lands in download folders and browser histories."""
    return Response(
        msgspec.json.encode(document),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
