"""The actor: who is asking, in which role and scope. It travels on every request to a service."""

from __future__ import annotations

import enum
import re
from uuid import UUID

import msgspec

from shared.errors import Forbidden, InvalidInput, NotFound


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

# A municipality's or library's slug, as the partners service registers it (contracts' `Slug`). Slugs become
# parts of NATS subjects, so nothing outside this pattern (no `*`, `>`, `.` or space) may reach one.
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
API_KEY_SUBJECT_PREFIX = "api-key:"  # the subject of an actor that an API key makes
# The subject of a token an operator mints for another role (`partnernet token`): support work, recorded as such.
SUPPORT_SUBJECT_PREFIX = "support:"
MAX_SUBJECT_LENGTH = 255
SCOPE_OF_ROLE = {  # which scope each role carries: required, then optional
    Role.OPERATOR: ((), ()),
    Role.COORDINATOR: (("municipality",), ()),
    Role.STAFF: (("municipality", "library"), ()),
    Role.PARTNER: (("partner",), ("municipality",)),
}


def library_meant(actor: Actor, library: str | None, what: str) -> str:
    """The library whose `what` (a library's policy) a request reads or sets: staff their own (another library is
    out of sight: 404), coordinators and operators name one (a coordinator's municipality is checked after the
    lookup, with `Actor.can_see_library`); any other role is refused."""
    if actor.role is Role.STAFF:
        if library not in (None, actor.library):
            raise NotFound(f"library {library} not found")
        assert actor.library is not None
        return actor.library
    if actor.role in (Role.COORDINATOR, Role.OPERATOR):
        if library is None:
            raise InvalidInput("name the library")
        return library
    raise Forbidden(f"{actor.role.value} may not read {what}")


def actor_problem(actor: Actor, *, api_key: bool = False) -> str | None:
    """What is wrong with an actor a credential claims to be, or None: a subject of printable characters, the
    scope its role needs and nothing else, slugs that could be registered, a partner that is a UUID.
    Pure: whether the tenants exist is asked of the partners service (gateway/auth.py)."""
    subject = actor.subject
    if not subject.strip() or len(subject) > MAX_SUBJECT_LENGTH or not subject.isprintable():
        return "the subject must be 1 to 255 printable characters"
    if subject == SYSTEM.subject or (subject.startswith(API_KEY_SUBJECT_PREFIX) and not api_key):
        return f"the subject {subject!r} is reserved for the platform"
    required, optional = SCOPE_OF_ROLE[actor.role]
    a_token = f"{'an' if actor.role is Role.OPERATOR else 'a'} {actor.role.value} token"
    for key in ("municipality", "library", "partner"):
        value = getattr(actor, key)
        if value is None:
            if key in required:
                return f"{a_token} needs a {key}"
            continue
        if key not in required and key not in optional:
            return f"{a_token} carries no {key}"
        if key == "partner":
            if not is_canonical_uuid(value):
                return "the partner claim must be a partner's id (a UUID)"
        elif not SLUG_PATTERN.match(value):
            return f"the {key} claim must be a slug (lower-case letters, digits and dashes)"
    return None


def is_canonical_uuid(value: str) -> bool:
    try:
        return str(UUID(value)) == value
    except ValueError:
        return False
