"""The words every service's contracts share, each defined once.

Events and requests of all four services use these, so a postcode, an e-mail address, a pseudonym or a
version check means the same wherever it appears. A service's own terms stay in its own contracts.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec

from shared.tenancy import SLUG_PATTERN


# The basic skills the libraries' network works on: referrals, courses, partners and openings name them.
# (No docstring: it would enter the frozen event schemas as a description.)
class SkillArea(enum.StrEnum):
    LANGUAGE = "language"
    DIGITAL = "digital"
    NUMERACY = "numeracy"
    JOB_SEEKING = "job_seeking"


# The slug rule is the tenancy's (slugs become parts of NATS subjects); a qualification's code is written the same way.
Slug = Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN.pattern, description="lower-case letters, digits and dashes")]
# The `next_cursor` of a page, sent back as given: opaque (base64url of its sort key); one the API did not give
# is a 422.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,1000}$"
CURSOR_DESCRIPTION = "`next_cursor` of the page before, as given (opaque); a cursor this API did not give is a 422"
Cursor = Annotated[str, msgspec.Meta(pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # a place, an address line: as short as a name
Text = Annotated[str, msgspec.Meta(max_length=4000)]  # a description or a motivation
Note = Annotated[str, msgspec.Meta(max_length=1000)]  # a remark with a step or on a partnership
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 ()-]{5,24}$")]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True, description="with a time zone")]
ExpectedVersion = Annotated[int, msgspec.Meta(ge=1)]  # the version the caller saw: `ExpectedVersion | None = None`
Pseudonym = Annotated[str, msgspec.Meta(pattern=r"^P-[A-Z0-9]{4,40}$", description="a participant's pseudonym")]
Qualification = Annotated[
    str,
    msgspec.Meta(
        pattern=SLUG_PATTERN.pattern,
        description="a qualification's code, e.g. `digital-guide`: lower-case letters, digits and dashes",
    ),
]
Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000_000, description="euro cents")]
Count = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
FIRST_YEAR, LAST_YEAR = 2000, 2100  # a budget's, a report's: the years the platform is asked about
Year = Annotated[int, msgspec.Meta(ge=FIRST_YEAR, le=LAST_YEAR)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]  # how many items a page of a list holds at most
DEFAULT_LIMIT = 50

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """A page of a list (shared/pagination.py makes them): its items, and the cursor to the next page."""

    items: list[T]
    next_cursor: str | None = None  # absent on the last page


class MergePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A change as a JSON merge patch (RFC 7396): each field defaults to `msgspec.UNSET` (left out: stays as it is),
    `None` clears it. Declares no fields of its own, so a subclass's fields keep their order in the API documents."""

    def touched(self) -> dict[str, Any]:
        """The fields the change sets or clears (not `expected_version`), with their values (`None` to clear)."""
        return {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if name != "expected_version" and getattr(self, name) is not msgspec.UNSET
        }
