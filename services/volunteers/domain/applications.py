"""Applications: one person applies to a vacancy once while an earlier application to it stands.

The person is recognised by the e-mail address, compared through its keyed digest (store/personal_data.py), so
"Sanne@Example.org" through a volunteer organisation is the same person as "sanne@example.org" at the desk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import Conflict

# Someone who withdrew may apply again; a rejection stands for that vacancy, and someone in service (or inactive,
# who can be reactivated) is there already.
WAY_OPEN_AGAIN = frozenset({VolunteerStatus.WITHDRAWN})


@dataclass(frozen=True)
class EarlierApplication:
    volunteer_id: UUID
    kind: VolunteerKind
    status: VolunteerStatus
    vacancy_id: UUID | None


def standing_application(earlier: Iterable[EarlierApplication], vacancy_id: UUID | None) -> EarlierApplication | None:
    """The person's earlier application to the same vacancy that still stands.

    An open application (no vacancy) is a wish to help, not a candidacy for a role: staff take it up in the intake,
    so a second one is not refused here.
    """
    if vacancy_id is None:
        return None
    for application in earlier:
        if (
            application.kind is VolunteerKind.VOLUNTEER
            and application.vacancy_id == vacancy_id
            and application.status not in WAY_OPEN_AGAIN
        ):
            return application
    return None


def check_first_application(
    earlier: Iterable[EarlierApplication], vacancy_id: UUID | None, *, may_see: bool = False
) -> None:
    """Refuse a second application; the earlier one is named only to a caller who may see it."""
    standing = standing_application(earlier, vacancy_id)
    if standing is None:
        return
    extra = {"volunteer_id": str(standing.volunteer_id), "state": standing.status.value} if may_see else {}
    raise Conflict(f"this person has applied to vacancy {vacancy_id} already", **extra)
