"""What the volunteers service's domain tests share (no servers): the statuses and steps by short names, the day
they run on, and a received certificate of conduct."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.volunteers.domain.screening import Certificate
from shared.contracts.volunteers.api.volunteers import VolunteerStatus, VolunteerStep

S = VolunteerStatus
Step = VolunteerStep
TODAY = date(2026, 11, 29)
REQUESTED = datetime(2026, 10, 1, tzinfo=UTC)


def received(issued_on: date, valid_until: date | None = None) -> Certificate:
    return Certificate(requested_at=REQUESTED, received_at=REQUESTED, issued_on=issued_on, valid_until=valid_until)
