"""What the public calendar's tests share: a municipality's offer of both libraries and a partner, a strict
reading of iCalendar (RFC 5545) and of the pages' schema.org markup, and the messages residents receive."""

from __future__ import annotations

import json
import mailbox
import re
import uuid
from dataclasses import dataclass
from email.message import Message
from typing import Any

import httpx

from launcher.mail_catcher import MailCatcher
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_body, meetings, soon
from tests.waiting import PATIENCE_SECONDS, eventually

CONTENT_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9-]+)(?P<params>(;[A-Za-z0-9-]+=(\"[^\"]*\"|[^\";:,]*))*):(?P<value>.*)$"
)
UTC_TIME = re.compile(r"^\d{8}T\d{6}Z$")
UNESCAPED = re.compile(r"(?<!\\)[;,]")
ONCE_IN_EVENT = ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY")


@dataclass
class Offer:
    public: dict[str, Any]  # library a's course for seniors, digital, on day 14 (a session of capacity 1)
    other_library: dict[str, Any]  # library b's language course for newcomers
    partner: dict[str, Any]  # the partner's own numeracy course at its premises
    staff_only: dict[str, Any]  # a course for the partner's staff: never on the calendar
    draft: dict[str, Any]  # not published


async def schedule(
    platform: RunningPlatform, token: str, *, publish: bool = True, capacity: int = 1, days: int = 14, **overrides: Any
) -> dict[str, Any]:
    async with platform.client(token) as api:
        created = await api.post("/api/v1/courses", json=course_body(**overrides))
        assert created.status_code == 201, created.text
        course = created.json()
        body = {"meetings": meetings(soon(days), 2), "capacity": capacity, "place": "Zaal 1"}
        scheduled = await api.post(f"/api/v1/courses/{course['id']}/sessions", json=body)
        assert scheduled.status_code == 201, scheduled.text
        if publish:
            published = await api.post(f"/api/v1/courses/{course['id']}/publish")
            assert published.status_code == 200, published.text
    return {"course": course, "session": scheduled.json()}


async def municipal_offer(platform: RunningPlatform, tenant: Tenant) -> Offer:
    partner_location = {"kind": "partner_premises", "address": "Stationsplein 1; 2e etage", "place": "Noord"}
    return Offer(
        public=await schedule(platform, tenant.staff_a, details={"title": "Klik & Tik, <b>beginners</b>, deel 1"}),
        other_library=await schedule(
            platform,
            tenant.staff_b,
            days=15,
            capacity=8,
            details={
                "title": "Nederlands oefenen",
                "skill_area": "language",
                "audience": "newcomers",
                "location": {"kind": "library_branch", "branch": "Vestiging Oost", "place": "Oost"},
            },
        ),
        partner=await schedule(
            platform,
            tenant.partner_a_token,
            days=16,
            capacity=5,
            details={
                "title": "Rekenen met geld",
                "skill_area": "numeracy",
                "audience": "general_public",
                "location": partner_location,
            },
        ),
        staff_only=await schedule(
            platform,
            tenant.staff_a,
            days=17,
            details={
                "title": "Interne training baliemedewerkers",
                "audience": "partner_staff",
                "audience_partner_id": tenant.partner_b,
            },
        ),
        draft=await schedule(platform, tenant.staff_a, publish=False, days=18, details={"title": "Nog geheim"}),
    )


def parse_icalendar(text: str) -> list[dict[str, list[tuple[str, str]]]]:
    """The VEVENTs of a feed, each property with its parameters and value; fails on anything RFC 5545 forbids
    that a calendar app could trip over: bare LF, lines over 75 octets, a malformed content line, unbalanced
    components, a missing or repeated required property, a time not in UTC form, unescaped TEXT."""
    assert text.endswith("\r\n"), "every content line ends with CRLF"
    physical = text.split("\r\n")[:-1]
    for line in physical:
        assert "\n" not in line and "\r" not in line, f"a bare line break in {line!r}"
        assert len(line.encode()) <= 75, f"a line of {len(line.encode())} octets: {line!r}"
    logical: list[str] = []
    for line in physical:
        if line.startswith((" ", "\t")):
            assert logical, "a continuation line first"
            logical[-1] += line[1:]
        else:
            logical.append(line)
    stack: list[str] = []
    calendar: dict[str, list[str]] = {}
    events: list[dict[str, list[tuple[str, str]]]] = []
    for line in logical:
        match = CONTENT_LINE.match(line)
        assert match, f"not a content line: {line!r}"
        name, params, value = match["name"].upper(), match["params"], match["value"]
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                assert stack == ["VCALENDAR", "VEVENT"], stack
                events.append({})
            continue
        if name == "END":
            assert stack and stack.pop() == value, f"END:{value} closes nothing open"
            continue
        assert stack, f"{name} outside VCALENDAR"
        if stack[-1] == "VCALENDAR":
            calendar.setdefault(name, []).append(value)
        else:
            events[-1].setdefault(name, []).append((params, value))
    assert stack == [], f"left open: {stack}"
    assert calendar.get("VERSION") == ["2.0"] and len(calendar.get("PRODID", [])) == 1, calendar
    uids = set()
    for event in events:
        for required in ONCE_IN_EVENT:
            assert len(event.get(required, [])) == 1, f"{required} in {event}"
        for stamp in ("DTSTAMP", "DTSTART", "DTEND", "LAST-MODIFIED"):
            for _, value in event.get(stamp, []):
                assert UTC_TIME.match(value), f"{stamp}:{value}"
        assert event["DTEND"][0][1] > event["DTSTART"][0][1]
        for text_property in ("SUMMARY", "DESCRIPTION", "LOCATION"):
            for _, value in event.get(text_property, []):
                assert not UNESCAPED.search(value), f"unescaped TEXT in {text_property}:{value}"
        uid = event["UID"][0][1]
        assert uid not in uids, f"UID {uid} twice"
        uids.add(uid)
    return events


def text_value(value: str) -> str:
    return value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def json_ld_of(page: str) -> Any:
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(block)


def received(catcher: MailCatcher, recipient: str) -> list[Message]:
    return [m for m in mailbox.Maildir(catcher.directory, create=False) if m["To"] == recipient]


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


async def message_about(catcher: MailCatcher, recipient: str, subject_starts: str) -> Message:
    """The one message to the resident whose subject starts so (each kind of message comes once per cause)."""

    async def arrived() -> list[Message] | None:
        found = [m for m in received(catcher, recipient) if str(m["Subject"]).startswith(subject_starts)]
        return found or None

    (message,) = await eventually(arrived, what=f"the message '{subject_starts}…' to a resident")
    return message


LINK = re.compile(r"https?://\S+/m/(?P<municipality>[a-z0-9-]+)/registrations/(?P<token>[0-9a-f]{32}[A-Za-z0-9_-]{24})")


def link_in(message: Message) -> str:
    match = LINK.search(body_of(message))
    assert match, body_of(message)
    return f"/m/{match['municipality']}/registrations/{match['token']}"


def someone(first: str) -> dict[str, str]:
    """A resident of this test alone: a tagged surname, address and phone that no other row can hold."""
    tag = uuid.uuid4().hex[:8]
    return {
        "name": f"{first} Veldhuis{tag}",
        "email": f"{first.lower()}.{tag}@bewoner.example",
        "phone": f"06 {uuid.uuid4().int % 10**8:08d}",
    }


def traces_of(who: dict[str, str]) -> list[str]:
    """The strings that would give the resident away."""
    return [who["name"], who["name"].split()[-1], who["email"], who["phone"], who["phone"].replace(" ", "")]


async def signed_up(site: str, catcher: MailCatcher, municipality: str, session_id: str, who: dict[str, str]) -> str:
    """Signed up on the public calendar and confirmed from the e-mail: the resident's link."""
    async with httpx.AsyncClient(base_url=site, timeout=PATIENCE_SECONDS) as web:
        answer = await web.post(f"/m/{municipality}/courses/{session_id}", data=who)
        assert answer.status_code == 200, answer.text
        link = link_in(await message_about(catcher, who["email"], "Bevestig"))
        assert (await web.post(f"{link}/confirm")).status_code == 200
    return link


def registration_of(link: str) -> uuid.UUID:
    return uuid.UUID(hex=link.rsplit("/", 1)[1][:32])
