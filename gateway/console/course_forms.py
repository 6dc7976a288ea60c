"""Form posts of the course pages into the courses service's requests: a course's details, a session's meetings.

Fields are named as the request places them without its wrapper (`title`, `location_kind` for
`$.details.location.kind`), so a problem the service names points at its field on the form (`as_the_form_names`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar.datastructures import FormMultiDict

from gateway.console import forms
from gateway.console.explain import Explanation
from gateway.console.messages import translate
from gateway.console.quotes import cents
from shared.clock import LOCAL_TIME
from shared.contracts.courses.api.courses import (
    CancelCourse,
    CancelSession,
    CourseView,
    CreateCourse,
    PublishCourse,
    ScheduleSession,
    SessionView,
    UpdateCourse,
    UpdateSession,
)
from shared.contracts.courses.api.enrolments import CancelEnrolment, EnrolParticipant, RecordRegister
from shared.contracts.courses.api.residents import EraseResidentData
from shared.errors import InvalidInput
from shared.tenancy import Actor, Role

MEETING_ROWS = 100  # as many meetings as a session may have
WRAPPERS = ("details.", "changes.", "enrolment.", "cancellation.", "attendance.")


def as_the_form_names(lang: str, found: Explanation) -> Explanation:
    """The explanation, its field named as the form names it (`details.location.kind` → `location.kind`)."""
    field = found.field
    for wrapper in WRAPPERS:
        if field and field.startswith(wrapper):
            field = field.removeprefix(wrapper)
    if field == found.field:
        return found
    label = translate(lang, f"field.{field}")
    shown = field if label == f"field.{field}" else label
    return Explanation(**{**found.__dict__, "field": field, "field_label": shown})


def manages(actor: Actor, library: str | None, partner_id: UUID | None) -> bool:
    """Whether the page offers the course's steps: its library's staff and its offering partner run it (the courses
    service decides again)."""
    if actor.role is Role.STAFF:
        return library is not None and library == actor.library
    if actor.role is Role.PARTNER:
        return partner_id is not None and str(partner_id) == actor.partner
    return False


def details(form: FormMultiDict) -> dict[str, Any]:
    """A course's details as the course form has them."""
    return {
        "title": forms.text(form, "title"),
        "description": forms.text(form, "description") or "",
        "skill_area": forms.text(form, "skill_area"),
        "audience": forms.text(form, "audience"),
        "audience_partner_id": forms.text(form, "audience_partner_id"),
        "format": forms.text(form, "format"),
        "level": forms.text(form, "level"),
        "price_cents": cents(form, "price") or 0,
        "volunteers_needed": forms.number(form, "volunteers_needed") or 0,
        "library_contributions": form.getall("library_contributions", []),
        "location": {
            "kind": forms.text(form, "location_kind"),
            "branch": forms.text(form, "location_branch"),
            "address": forms.text(form, "location_address"),
            "place": forms.text(form, "location_place"),
        },
    }


def create_course(form: FormMultiDict, actor: Actor) -> CreateCourse:
    """Staff offer for their library (a partner's course it hosts, where a partner is chosen); a partner its own
    (at a library of its partnerships, where one is chosen)."""
    offered_by = forms.text(form, "offered_by_partner_id") if actor.role is Role.STAFF else None
    library = forms.text(form, "library") if actor.role is Role.PARTNER else None
    data = {"details": details(form), "library": library, "offered_by_partner_id": offered_by}
    return forms.convert(data, CreateCourse)


def update_course(course_id: UUID, form: FormMultiDict) -> UpdateCourse:
    """Every field as the edit form shows it; an emptied level is cleared (the API keeps a field only when null)."""
    changes = {**details(form), "expected_version": forms.number(form, "expected_version")}
    changes["level"] = changes["level"] or ""
    return forms.convert({"course_id": str(course_id), "changes": changes}, UpdateCourse)


def publish_course(course_id: UUID, form: FormMultiDict) -> PublishCourse:
    return PublishCourse(course_id=course_id, expected_version=forms.number(form, "expected_version"))


def cancel_course(course_id: UUID, form: FormMultiDict) -> CancelCourse:
    data = {
        "course_id": str(course_id),
        "reason": forms.text(form, "reason"),
        "expected_version": forms.number(form, "expected_version"),
    }
    return forms.convert(data, CancelCourse)


def meetings(form: FormMultiDict) -> list[dict[str, Any]] | None:
    """The meeting rows as typed (`meeting-<n>-starts_at`, `-ends_at`, Dutch time); a row left empty is none."""
    found = []
    for n in range(MEETING_ROWS):
        starts = forms.local_datetime(form, f"meeting-{n}-starts_at", f"meetings[{n}].starts_at")
        ends = forms.local_datetime(form, f"meeting-{n}-ends_at", f"meetings[{n}].ends_at")
        if starts is None and ends is None:
            continue
        if starts is None or ends is None:
            raise InvalidInput(f"meeting {n + 1} needs a start and an end - at `$.meeting-{n}-starts_at`")
        found.append({"starts_at": starts, "ends_at": ends})
    return found or None


def schedule_session(course_id: UUID, form: FormMultiDict) -> ScheduleSession:
    data = {
        "course_id": str(course_id),
        "details": {
            "meetings": meetings(form),
            "capacity": forms.number(form, "capacity"),
            "place": forms.text(form, "place"),
        },
    }
    return forms.convert(data, ScheduleSession)


def update_session(session_id: UUID, form: FormMultiDict) -> UpdateSession:
    changes = {
        "meetings": meetings(form),
        "capacity": forms.number(form, "capacity"),
        "place": forms.text(form, "place"),
        "expected_version": forms.number(form, "expected_version"),
    }
    return forms.convert({"session_id": str(session_id), "changes": changes}, UpdateSession)


def cancel_session(session_id: UUID, form: FormMultiDict) -> CancelSession:
    data = {
        "session_id": str(session_id),
        "reason": forms.text(form, "reason"),
        "expected_version": forms.number(form, "expected_version"),
    }
    return forms.convert(data, CancelSession)


def enrol(session_id: UUID, form: FormMultiDict) -> EnrolParticipant:
    """From a referral chosen, by a pseudonym typed, or neither: the courses service makes a code up."""
    wanted = {"referral_id": forms.text(form, "referral_id"), "participant_pseudonym": forms.text(form, "pseudonym")}
    return forms.convert({"session_id": str(session_id), "enrolment": wanted}, EnrolParticipant)


def erase_resident(session_id: UUID, form: FormMultiDict) -> EraseResidentData:
    """Only a registration of this session: the service answers another one as not found."""
    body = {"registration_id": str(forms.uuid(form, "registration_id") or ""), "session_id": str(session_id)}
    return forms.convert(body, EraseResidentData)


def withdraw(form: FormMultiDict) -> CancelEnrolment:
    cancellation = {"reason": forms.text(form, "reason"), "expected_version": forms.number(form, "expected_version")}
    return forms.convert(
        {"enrolment_id": str(forms.uuid(form, "enrolment_id") or ""), "cancellation": cancellation}, CancelEnrolment
    )


def register(session_id: UUID, form: FormMultiDict) -> RecordRegister:
    """One meeting's register: `present-<enrolment id>` is `yes` or `no` (left unchosen: not recorded), with the
    enrolment's version beside it (`version-<enrolment id>`)."""
    meeting = forms.number(form, "meeting")
    marks = []
    for key in form:
        if not key.startswith("present-"):
            continue
        enrolment_id = key.removeprefix("present-")
        choice = forms.text(form, key)
        if choice not in ("yes", "no"):
            continue
        marks.append(
            {
                "enrolment_id": enrolment_id,
                "present": choice == "yes",
                "expected_version": forms.number(form, f"version-{enrolment_id}"),
            }
        )
    if not marks:
        raise InvalidInput("choose present or absent for at least one person - at `$.meeting`")
    return forms.convert(
        {"session_id": str(session_id), "register": {"meeting": meeting, "marks": marks}}, RecordRegister
    )


def typed_course(form: FormMultiDict) -> dict[str, Any]:
    """What was typed into the course form, to show it again beside a problem."""
    names = (
        "title", "description", "skill_area", "audience", "audience_partner_id", "format", "level", "price",
        "volunteers_needed", "location_kind", "location_branch", "location_address", "location_place", "library",
        "offered_by_partner_id",
    )  # fmt: skip
    typed: dict[str, Any] = {name: forms.text(form, name) or "" for name in names}
    typed["library_contributions"] = form.getall("library_contributions", [])
    return typed


def course_values(course: CourseView, euros: str) -> dict[str, Any]:
    """A course as the edit form shows it."""
    location = course.location
    return {
        "title": course.title,
        "description": course.description,
        "skill_area": course.skill_area.value,
        "audience": course.audience.value,
        "audience_partner_id": str(course.audience_partner_id or ""),
        "format": course.format.value,
        "level": course.level or "",
        "price": euros if course.price_cents else "",
        "volunteers_needed": str(course.volunteers_needed),
        "location_kind": location.kind.value,
        "location_branch": location.branch or "",
        "location_address": location.address or "",
        "location_place": location.place or "",
        "library": course.library or "",
        "offered_by_partner_id": str(course.offered_by_partner_id or ""),
        "library_contributions": [c.value for c in course.library_contributions],
    }


def meeting_rows(session: SessionView | None, extra: int) -> list[dict[str, str]]:
    """The meeting rows of the session form (Dutch time, as `datetime-local` takes it), and `extra` empty ones."""
    rows = []
    for meeting in session.meetings if session else []:
        rows.append({"starts_at": _local(meeting.starts_at), "ends_at": _local(meeting.ends_at)})
    return rows + [{"starts_at": "", "ends_at": ""} for _ in range(extra)]


def typed_meetings(form: FormMultiDict, count: int) -> list[dict[str, str]]:
    """The first `count` meeting rows as typed, to show again beside a problem."""
    return [
        {"starts_at": form.get(f"meeting-{n}-starts_at", ""), "ends_at": form.get(f"meeting-{n}-ends_at", "")}
        for n in range(count)
    ]


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%dT%H:%M")
