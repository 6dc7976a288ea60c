"""The public calendar's pages: server-rendered, one small inline style and no script, so they are light on a
phone and work with a keyboard and a screen reader; each session as schema.org `Event` markup (JSON-LD)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from gateway.calendar.words import MESSAGES, WEEKDAYS, translate
from gateway.messages import DEFAULT_LANGUAGE, LANGUAGES
from gateway.templates import Page
from shared.clock import LOCAL_TIME
from shared.contracts.courses.api.public import PublicSession
from shared.contracts.courses.events import LocationKind

STYLE = (
    "body{margin:0;font:1.05rem/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff}"
    "header,main{max-width:46rem;margin:0 auto;padding:.5rem 1rem}"
    "header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;border-bottom:2px solid #ddd}"
    ".brand{font-weight:bold;margin:.3rem 0}.langs{display:flex;gap:1rem;list-style:none;margin:0;padding:0}"
    "a{color:#0b4f8a}a[aria-current]{font-weight:bold;color:#1a1a1a}"
    ".skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.5rem}"
    "a:focus,button:focus,input:focus,select:focus,main:focus{outline:3px solid #e6a100;outline-offset:2px}"
    ".fields{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:0 1rem}"
    "label{display:block;font-weight:bold}input,select{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;"
    "border:2px solid #555;border-radius:.3rem}"
    "button{font:inherit;padding:.5rem 1rem;border:2px solid #0b4f8a;border-radius:.4rem;background:#0b4f8a;"
    "color:#fff;cursor:pointer}button.secondary{background:#fff;color:#0b4f8a}"
    ".sessions{list-style:none;padding:0}.card{border:1px solid #bbb;border-radius:.4rem;padding:.2rem 1rem;"
    "margin:.8rem 0}.card h3{margin:.5rem 0}.card p{margin:.2rem 0}.meta,.small{color:#444}.places{font-weight:bold}"
    ".problem{border:3px solid #a30000;padding:.2rem 1rem}.error{color:#a30000;display:block}"
    ".notice{border-left:6px solid #1d6b2f;padding:.3rem .8rem;background:#eef7ee}"
)
STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() + "'"
HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; style-src {STYLE_HASH}; img-src data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # the registration's link must not leave in a Referer
    "X-Content-Type-Options": "nosniff",
}


def language_of(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


def local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TIME)


def when(moment: datetime, lang: str) -> str:
    at = local(moment)
    day = WEEKDAYS[lang][at.weekday()]
    return f"{day} {at:%d-%m-%Y %H:%M}" if lang == "nl" else f"{day} {at:%Y-%m-%d %H:%M}"


def where(session: PublicSession, lang: str) -> str:
    location = session.location
    if location.kind is LocationKind.ONLINE:
        return translate(lang, "online")
    parts = [session.place, location.branch, location.address, location.place]
    if location.kind is LocationKind.LIBRARY_BRANCH and session.library_name:
        parts.insert(1, session.library_name)
    return ", ".join(dict.fromkeys(p for p in parts if p)) or session.offered_by


def places(session: PublicSession, lang: str) -> str:
    if session.places_free:
        return translate(lang, "places_free", count=session.places_free)
    return translate(lang, "full", count=session.waiting_list)


def price(session: PublicSession, lang: str) -> str:
    if not session.price_cents:
        return translate(lang, "free")
    euros = f"{session.price_cents / 100:.2f}"
    return f"€ {euros.replace('.', ',')}" if lang == "nl" else f"€{euros}"


def event_markup(session: PublicSession, url: str, lang: str) -> dict[str, Any]:
    """schema.org Event: what search engines and assistants read of a session."""
    online = session.location.kind is LocationKind.ONLINE
    location: dict[str, Any] = (
        {"@type": "VirtualLocation", "url": url}
        if online
        else {
            "@type": "Place",
            "name": where(session, lang),
            "address": {
                "@type": "PostalAddress",
                "streetAddress": session.location.address or "",
                "addressLocality": session.location.place or "",
                "addressCountry": "NL",
            },
        }
    )
    return {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": url,
        "url": url,
        "name": session.title,
        "description": session.description or session.title,
        "startDate": local(session.starts_at).isoformat(),
        "endDate": local(session.ends_at).isoformat(),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/"
        + ("OnlineEventAttendanceMode" if online else "OfflineEventAttendanceMode"),
        "location": location,
        "organizer": {"@type": "Organization", "name": session.offered_by},
        "inLanguage": "nl",
        "maximumAttendeeCapacity": session.capacity,
        "remainingAttendeeCapacity": session.places_free,
        "offers": {
            "@type": "Offer",
            "url": url,
            "price": f"{session.price_cents / 100:.2f}",
            "priceCurrency": "EUR",
            "availability": "https://schema.org/" + ("InStock" if session.places_free else "SoldOut"),
        },
    }


def json_ld(items: list[dict[str, Any]] | dict[str, Any]) -> Markup:
    """JSON inside <script>: `<`, `>` and `&` escaped so no text of a course can close the element."""
    text = json.dumps(items, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # escaped above for the script element


def with_query(path: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def render(template: str, lang: str, **context: Any) -> Page:
    return Page(
        f"calendar/{template}",
        {"lang": lang, "t": MESSAGES.of(lang), "weekdays": WEEKDAYS[lang], "style": STYLE, **context},
    )
