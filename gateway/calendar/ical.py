"""The course offer as an iCalendar feed (RFC 5545) that calendar apps subscribe to: one VEVENT per meeting of
each session, times in UTC, lines folded at 75 octets, text escaped."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from shared.clock import LOCAL_TIME
from shared.contracts.courses.api.public import PublicSession

PRODID = "-//partnernet//course calendar//NL"


def escape_text(text: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, semicolon and comma escaped, new lines as \\n."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Content lines longer than 75 octets are split (3.1), never inside a UTF-8 character; each continuation
    starts with one space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > limit:
            parts.append(current.decode())
            current = b""
            limit = 74  # the leading space of a continuation counts
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def feed(
    sessions: Iterable[PublicSession],
    *,
    name: str,
    generated_at: datetime,
    url_of: dict[str, str],
    where_of: dict[str, str],
    host: str,
) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"X-WR-TIMEZONE:{LOCAL_TIME.key}",
    ]
    for session in sessions:
        key = str(session.session_id)
        total = len(session.meetings)
        for number, meeting in enumerate(session.meetings, start=1):
            summary = session.title if total == 1 else f"{session.title} ({number}/{total})"
            lines += [
                "BEGIN:VEVENT",
                f"UID:{session.session_id}-{number}@{host}",
                f"DTSTAMP:{utc(generated_at)}",
                f"LAST-MODIFIED:{utc(session.changed_at)}",
                f"DTSTART:{utc(meeting.starts_at)}",
                f"DTEND:{utc(meeting.ends_at)}",
                f"SUMMARY:{escape_text(summary)}",
                f"DESCRIPTION:{escape_text(' – '.join(filter(None, [session.offered_by, session.description])))}",
                f"LOCATION:{escape_text(where_of[key])}",
                f"URL:{url_of[key]}",
                "STATUS:CONFIRMED",
                "TRANSP:OPAQUE",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
