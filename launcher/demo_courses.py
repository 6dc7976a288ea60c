"""The demo's course offer: published courses of both demo libraries and one a partner runs, from the Dutch today
onwards, so a fresh demo's public calendar (/m/zuidstad/courses) has something to find and sign up for."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import httpx

from shared.clock import LOCAL_TIME, local_today

# The courses service learns libraries and partners from the partners service's events: on a fresh demo they may
# not have arrived yet when the seed offers the first course (422 'not known to the courses service').
KNOWN_WITHIN_SECONDS = 60.0


@dataclass(frozen=True)
class DemoCourse:
    offered_by: str  # a library's slug, or a partner's name
    title: str
    skill_area: str
    audience: str
    location: dict[str, str]
    in_days: int  # the first meeting, days after today (the Dutch day)
    starts_at: time
    meetings: int  # weekly
    capacity: int


CENTRUM = {"kind": "library_branch", "branch": "Centrale bibliotheek", "place": "Centrum"}
NOORD = {"kind": "library_branch", "branch": "Vestiging Noord", "place": "Noord"}
COURSES = [
    DemoCourse(
        "bibliotheek-zuidstad-centrum", "Klik & Tik: de basis", "digital", "seniors", CENTRUM, 2, time(10), 4, 8
    ),
    DemoCourse(
        "bibliotheek-zuidstad-centrum", "Taalcafé Nederlands", "language", "newcomers", CENTRUM, 4, time(14), 6, 12
    ),
    DemoCourse(
        "bibliotheek-zuidstad-noord",
        "Solliciteren met de computer",
        "job_seeking",
        "job_seekers",
        NOORD,
        3,
        time(9, 30),
        3,
        6,
    ),
    DemoCourse(
        "bibliotheek-zuidstad-noord",
        "Rekenen in het dagelijks leven",
        "numeracy",
        "general_public",
        NOORD,
        7,
        time(19),
        5,
        10,
    ),
    DemoCourse(
        "Volksuniversiteit Zuidstad",
        "Grip op je geld",
        "numeracy",
        "general_public",
        {"kind": "partner_premises", "address": "Marktplein 4", "place": "Centrum"},
        5,
        time(19, 30),
        4,
        15,
    ),
]


def meetings(course: DemoCourse) -> list[dict[str, str]]:
    first = datetime.combine(local_today() + timedelta(days=course.in_days), course.starts_at, tzinfo=LOCAL_TIME)
    return [
        {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
        for start in (first + timedelta(weeks=week) for week in range(course.meetings))
    ]


def seed_courses(base_url: str, tokens: dict[str, str]) -> int:
    """Each demo course its offerer has not offered yet (by title): created, a session scheduled, published.
    `tokens` are the offerers' (a library's slug or a partner's name: a token of its staff). How many were new."""
    added = 0
    for course in COURSES:
        headers = {"Authorization": f"Bearer {tokens[course.offered_by]}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
            mine = client.get("/api/v1/courses", params={"limit": 200}).raise_for_status().json()["items"]
            if any(c["title"] == course.title for c in mine):
                continue
            created = _offer(client, course)
            scheduled = {"meetings": meetings(course), "capacity": course.capacity, "place": course.location["place"]}
            client.post(f"/api/v1/courses/{created['id']}/sessions", json=scheduled).raise_for_status()
            client.post(f"/api/v1/courses/{created['id']}/publish").raise_for_status()
            added += 1
    return added


def _offer(client: httpx.Client, course: DemoCourse) -> Any:
    body = {
        "details": {
            "title": course.title,
            "skill_area": course.skill_area,
            "audience": course.audience,
            "format": "in_person",
            "location": course.location,
            "level": "beginners",
            "price_cents": 0,
        }
    }
    deadline = clock.monotonic() + KNOWN_WITHIN_SECONDS
    while True:
        response = client.post("/api/v1/courses", json=body)
        if response.status_code != 422 or "not known" not in response.text or clock.monotonic() > deadline:
            return response.raise_for_status().json()
        clock.sleep(0.5)
