"""Who read volunteers' personal data (`rpc.volunteers.access_log`): the library's log, or one person's."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, Limit


class VolunteerReadPurpose(enum.StrEnum):
    VIEW = "view"  # one person's record
    LIST = "list"  # a list that shows names (the library's register, a search by name)
    CHANGE = "change"  # the record as a step or a change answered it
    EXPORT = "export"


class ListVolunteerReads(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The caller's library's log (staff), newest first; or one person's."""

    volunteer_id: UUID | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class VolunteerReadEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    volunteer_id: UUID
    library: str
    actor: str
    actor_role: str
    actor_organisation: str | None
    purpose: VolunteerReadPurpose
    at: datetime
