"""Problems in plain words: a service's typed error (or an API problem `type`) as a sentence in the visitor's
language, with the service's own detail beside it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec

from gateway.console.messages import translate
from gateway.problems import problem_type
from shared.errors import PartnernetError

URN = problem_type("")  # "urn:partnernet:problem:"
KNOWN_CODES = frozenset(
    {
        "invalid-input",
        "not-found",
        "forbidden",
        "conflict",
        "illegal-transition",
        "service-unavailable",
        "service-timeout",
        "internal",
        "unauthorized",
        "too-many-requests",
        "bad-request",
        "too-large",
        "csrf",
        "role",
        "gone",
        "idempotency-key-reused",
        "idempotency-key-in-use",
    }
)
STATUS_OF = {
    "invalid-input": 422,
    "not-found": 404,
    "forbidden": 403,
    "conflict": 409,
    "illegal-transition": 409,
    "service-unavailable": 503,
    "service-timeout": 504,
    "unauthorized": 401,
    "too-many-requests": 429,
    "bad-request": 400,
    "too-large": 413,
    "csrf": 403,
    "role": 403,
    "gone": 410,
    "idempotency-key-reused": 422,
    "idempotency-key-in-use": 409,
}


@dataclass(frozen=True)
class Explanation:
    code: str
    sentence: str
    detail: str
    status: int
    field: str | None = None  # the form field it is about, where known (`participant.name`)
    field_label: str | None = None  # that field as the form calls it

    @property
    def type(self) -> str:
        return problem_type(self.code)


def code_of(problem: str) -> str:
    """`urn:partnernet:problem:conflict` or `conflict` → `conflict`; anything unknown → `internal`."""
    code = problem.removeprefix(URN)
    return code if code in KNOWN_CODES else "internal"


def plain_words(lang: str, problem: str, detail: str = "") -> Explanation:
    code = code_of(problem)
    return Explanation(
        code=code, sentence=translate(lang, f"problem.{code}"), detail=detail, status=STATUS_OF.get(code, 500)
    )


# How shared/versions.py's version_conflict says it: the one conflict where someone else changed it meanwhile.
VERSION_CONFLICT = re.compile(r" is at version \d+, not ")


def explain(lang: str, error: Exception) -> Explanation:
    if isinstance(error, PartnernetError):
        explanation, detail = plain_words(lang, error.code, error.detail), error.detail
        if explanation.code == "conflict" and not VERSION_CONFLICT.search(detail):
            # Not yet possible, already done, more than a day holds: not "someone else changed this", which it
            # said of every 409 (the service's detail beside it says which).
            explanation = Explanation(
                code="conflict", sentence=translate(lang, "problem.conflict_state"), detail=detail, status=409
            )
    elif isinstance(error, msgspec.ValidationError):
        explanation, detail = plain_words(lang, "invalid-input", str(error)), str(error)
    else:
        return plain_words(lang, "internal", "")
    field = field_of(detail)
    label = translate(lang, f"field.{field}") if field else None
    return Explanation(
        **{**explanation.__dict__, "field": field, "field_label": label if label != f"field.{field}" else field}
    )


def field_of(detail: str) -> str | None:
    """msgspec says where: `... - at `$.participant.name`` → `participant.name`; a missing field is named too."""
    place = re.search(r"at `\$\.([A-Za-z0-9_.\[\]]+)`", detail)
    missing = re.search(r"missing required field `([A-Za-z0-9_]+)`", detail)
    if missing:
        return f"{place.group(1)}.{missing.group(1)}" if place else missing.group(1)
    return place.group(1) if place else None
