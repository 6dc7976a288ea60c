"""Signing in as one of the demo's people, only where `partnernet up --demo` asked for it.

`up --demo` seeds a municipality and writes who its people are (no tokens) to a file it names to the gateway
(PARTNERNET_DEMO_PEOPLE). The sign-in page then offers each of them, marked as a demo, and the gateway mints a
token for the one chosen, which must hold like any other (the tenants exist and belong together). Without
that setting the page offers nobody and the route answers 404: a real platform has no way in without a token.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from shared.tenancy import Actor, Role

DEMO_PEOPLE_FILE = "demo-people.json"


class DemoPerson(msgspec.Struct, kw_only=True, frozen=True):
    role: Role
    name: str  # what the sign-in page shows beside the role: a library's or partner's name
    subject: str
    municipality: str | None = None
    library: str | None = None
    partner: str | None = None

    def actor(self) -> Actor:
        return Actor(
            subject=self.subject,
            role=self.role,
            municipality=self.municipality,
            library=self.library,
            partner=self.partner,
        )


def write_demo_people(path: Path, people: list[DemoPerson]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.encode(people))


def read_demo_people(path: Path | None) -> list[DemoPerson]:
    """The demo's people; none when the platform is no demo or the demo is not seeded yet."""
    if path is None:
        return []
    try:
        return msgspec.json.decode(path.read_bytes(), type=list[DemoPerson])
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return []
