"""The actor: who is asking, in which role and scope. It travels on every request to a service."""

from __future__ import annotations

import enum

import msgspec

from shared.errors import Forbidden


class Role(enum.StrEnum):
    OPERATOR = "operator"
    COORDINATOR = "coordinator"  # municipality coordinator: every library of one municipality
    STAFF = "staff"  # library staff: one library
    PARTNER = "partner"  # one partner organisation


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    role: Role
    municipality: str | None = None
    library: str | None = None
    partner: str | None = None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(f"role {self.role.value} may not do this")

    def can_see_library(self, library: str, municipality: str | None) -> bool:
        """Whether rows that belong to `library` (in `municipality`) are within this actor's scope."""
        if self.role is Role.OPERATOR:
            return True
        if self.role is Role.COORDINATOR:
            return municipality is not None and municipality == self.municipality
        if self.role is Role.STAFF:
            return library == self.library
        return False

    def can_act_for_library(self, library: str) -> bool:
        """Writes on a library's behalf: only its own staff (coordinators are read-mostly)."""
        return self.role is Role.OPERATOR or (self.role is Role.STAFF and library == self.library)


SYSTEM = Actor(subject="system", role=Role.OPERATOR)
