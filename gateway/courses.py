"""Routes for the course offer: courses, their sessions, and enrolments with their waiting lists.

Each passes a request through to one declared operation of the courses service
(shared/contracts/courses/api/operations.py), so they are made from the declarations (gateway/routes.py).
"""

from __future__ import annotations

from litestar import Router

from gateway.routes import passthrough
from shared.contracts.courses.api import operations as ops
from shared.contracts.courses.api.courses import CourseTaskCheck, ReasonedStep, VersionedStep
from shared.contracts.courses.api.education import EducationAnswer, ReservationRelease

COURSE = "/{course_id:uuid}"
SESSION = "/{session_id:uuid}"
ENROLMENT = "/{enrolment_id:uuid}"
PAGE = ["status", "cursor", "limit"]  # a list under one course or session: by status, in pages

course_routes = Router(
    path="/api/v1/courses",
    tags=["courses"],
    route_handlers=[
        passthrough("POST", "/", ops.CREATE_COURSE, body=True, status_code=201, handler_name="create"),
        passthrough("GET", "/", ops.LIST_COURSES),
        passthrough("GET", COURSE, ops.GET_COURSE, handler_name="get_one"),
        passthrough("PATCH", COURSE, ops.UPDATE_COURSE, body="changes", if_match=True, handler_name="update"),
        passthrough(
            "POST",
            f"{COURSE}/publish",
            ops.PUBLISH_COURSE,
            body=VersionedStep,
            if_match=True,
            status_code=200,
            handler_name="publish",
        ),
        passthrough(
            "POST",
            f"{COURSE}/cancel",
            ops.CANCEL_COURSE,
            body=ReasonedStep,
            if_match=True,
            status_code=200,
            handler_name="cancel",
        ),
        passthrough("POST", f"{COURSE}/sessions", ops.SCHEDULE_SESSION, body="details", status_code=201),
        passthrough(
            "POST",
            f"{COURSE}/tasks/{{task:str}}",
            ops.CHECK_COURSE_TASK,
            body=CourseTaskCheck,
            status_code=200,
            handler_name="check_task",
        ),
        passthrough(
            "GET",
            f"{COURSE}/sessions",
            ops.LIST_SESSIONS,
            query=PAGE,
            summary="A course's sessions by start, with places free and waiting lists",
            handler_name="list_course_sessions",
        ),
    ],
)

session_routes = Router(
    path="/api/v1/sessions",
    tags=["courses"],
    route_handlers=[
        passthrough("GET", "/", ops.LIST_SESSIONS),
        passthrough("GET", SESSION, ops.GET_SESSION, handler_name="get_one"),
        passthrough("PATCH", SESSION, ops.UPDATE_SESSION, body="changes", if_match=True, handler_name="update"),
        passthrough(
            "POST",
            f"{SESSION}/cancel",
            ops.CANCEL_SESSION,
            body=ReasonedStep,
            if_match=True,
            status_code=200,
            handler_name="cancel",
        ),
        passthrough("POST", f"{SESSION}/enrolments", ops.ENROL, body="enrolment", status_code=201),
        passthrough(
            "POST",
            f"{SESSION}/attendance",
            ops.RECORD_REGISTER,
            body="register",
            status_code=200,
            description="A meeting's register: each person's presence with the enrolment's version seen. All or "
            "nothing: one mark that cannot be recorded (not of this session, a stale version, a meeting not begun, "
            "someone twice) answers a problem naming it (`$.marks[i]`) and records none.",
        ),
        passthrough(
            "GET",
            f"{SESSION}/enrolments",
            ops.LIST_ENROLMENTS,
            query=PAGE,
            summary="A session's places and waiting list, in the order they came in",
            handler_name="list_session_enrolments",
        ),
        passthrough(
            "GET",
            f"{SESSION}/residents",
            ops.LIST_SESSION_RESIDENTS,
            query=["cursor", "limit"],
            summary="Residents who signed up for the session themselves, for those who run it, in the order they came"
            " in, a page at a time (each read is logged)",
            handler_name="list_session_residents",
        ),
    ],
)

resident_routes = Router(
    path="/api/v1/resident-registrations",
    tags=["courses"],
    route_handlers=[
        passthrough(
            "POST",
            "/{registration_id:uuid}/erase",
            ops.ERASE_RESIDENT_DATA,
            status_code=200,
            handler_name="erase_resident_data",
        ),
        passthrough("POST", "/encryption/rotate", ops.ROTATE_ENCRYPTION, status_code=200),
    ],
)

enrolment_routes = Router(
    path="/api/v1/enrolments",
    tags=["courses"],
    route_handlers=[
        passthrough("GET", "/", ops.LIST_ENROLMENTS, query_names={"participant_pseudonym": "pseudonym"}),
        passthrough("GET", ENROLMENT, ops.GET_ENROLMENT, handler_name="get_one"),
        passthrough(
            "POST",
            f"{ENROLMENT}/cancel",
            ops.CANCEL_ENROLMENT,
            body="cancellation",
            if_match=True,
            status_code=200,
            handler_name="cancel",
        ),
        passthrough(
            "POST", f"{ENROLMENT}/attendance", ops.RECORD_ATTENDANCE, body="attendance", if_match=True, status_code=200
        ),
    ],
)

education_routes = Router(
    path="/api/v1/education-requests",
    tags=["courses"],
    route_handlers=[
        passthrough("POST", "/", ops.REQUEST_TAILORED_EDUCATION, body=True, status_code=201, handler_name="request"),
        passthrough("GET", "/", ops.LIST_EDUCATION_REQUESTS),
        passthrough("GET", "/{request_id:uuid}", ops.GET_EDUCATION_REQUEST, handler_name="get_one"),
        passthrough(
            "POST",
            "/{request_id:uuid}/answer",
            ops.ANSWER_EDUCATION_REQUEST,
            body=EducationAnswer,
            if_match=True,
            status_code=200,
            handler_name="answer",
        ),
        passthrough(
            "POST",
            "/{request_id:uuid}/release",
            ops.RELEASE_RESERVATION,
            body=ReservationRelease,
            if_match=True,
            status_code=200,
            handler_name="release",
        ),
    ],
)

COURSE_CONTROLLERS = [course_routes, session_routes, enrolment_routes, resident_routes, education_routes]
