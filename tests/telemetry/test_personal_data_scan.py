"""No personal data or secret in any telemetry (issue 14): the four services and the gateway, built as in
production, export over OTLP to an in-process receiver while every flow that touches personal data runs over
HTTP; their log lines are captured as the JSON they write. Then everything that arrived (span names, span and
span-event attributes, resource attributes, metric names and point labels, log lines) is scanned for the
participants' and volunteers' names, e-mail addresses, phone numbers, birth dates and personal codes.

Flows: a referral submitted, accepted, intake planned, completed; a second referral of the same person (a
possible duplicate) listed; the participant's code issued and their page opened by its link, an export asked
there; the participant's data exported and erased, per referral and as one person found by name and birth
date; volunteers applying through the library and a volunteer organisation, found by name, screened
(certificate of conduct), activated, assigned to a course, logging hours; an intern registered with a school
supervisor; a volunteer's data changed; the volunteers' access log read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from gateway.app import create_app
from launcher.embedded import EmbeddedNats, free_port
from services.courses.store.residents import ResidentVault, registrations
from shared.clock import local_today
from shared.logs import FOREIGN_LOGGERS, setup_logging
from shared.service import ServiceRuntime
from shared.telemetry import setup_telemetry
from shared.tokens import TokenIssuer
from tests.conftest import BUILDERS, RunningPlatform, eventually, make_settings, referral_body
from tests.e2e.calendar_support import schedule
from tests.servers import create_database, drop_database
from tests.services.courses.support import courses_know
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    call,
    course_needing_volunteers,
    give_certificate,
    opening_for,
    volunteer_tenant,
)
from tests.telemetry.receiver import OtlpReceiver, attributes, otlp_receiver, value_of

# Distinctive, so that a hit is a leak and not a coincidence (a name part like "Jan" would be in everything).
PARTICIPANT = {
    "name": "Wilhelmina Oosterhuis-Kwakkelstein",
    "birth_date": "1961-07-23",
    "phone": "0687654329",
    "email": "w.oosterhuis@voorbeeldpost.example",
}
REFERRER_CONTACT = {"name": "Gerrit Plompenbosch", "email": "g.plompenbosch@werkplein.example"}
VOLUNTEERS = [
    {"name": "Hendrika Zwanenburg", "email": "hendrika.zwanenburg@vrijwilliger.example", "phone": "0623456781"},
    {"name": "Barend Kloosterman", "email": "b.kloosterman@vrijwilliger.example", "phone": "0634567812"},
]
INTERN = {"name": "Jorinde Haverkamp", "email": "jorinde@roc-leerling.example", "phone": "0645678123"}
SUPERVISOR = {"name": "Anneloes Brinkhorst", "email": "a.brinkhorst@roc.example", "phone": "0201234987"}
MOTIVATION = "Ik heb zelf lang moeite gehad met lezen en wil Wilhelmina's buren helpen"
NEW_PHONE = "0656781234"
RESIDENT = {"name": "Wilhelmien Oosterbroek", "email": "w.oosterbroek@bewoner.example", "phone": "0667812345"}


# Planted on purpose in one span name, one metric label and one log line: the scan must find exactly these,
# which proves each signal really reaches it (a scan that saw nothing would pass on anything).
CANARY = "Kanarie-Geelvink-7391"


def plant_canaries(runtime: ServiceRuntime) -> None:
    with runtime.telemetry.tracer("scan").start_as_current_span(f"canary {CANARY}"):
        logging.getLogger("scan.canary").info("canary %s", CANARY)
    runtime.telemetry.meter("scan").create_counter("scan.canaries").add(1, {"canary": CANARY})


def personal_values() -> dict[str, str]:
    """Every piece of personal data the run sends, and the parts of names and addresses on their own."""
    found: dict[str, str] = {}
    for who, person in [
        ("participant", PARTICIPANT),
        ("referrer contact", REFERRER_CONTACT),
        *[(f"volunteer {i}", v) for i, v in enumerate(VOLUNTEERS)],
        ("intern", INTERN),
        ("school supervisor", SUPERVISOR),
        ("resident", RESIDENT),
    ]:
        for field, value in person.items():
            found[f"{who} {field}"] = value
            if field == "name":
                for part in value.replace("-", " ").split()[1:]:  # surnames: distinctive on their own
                    found[f"{who} surname {part}"] = part
            if field == "email":
                found[f"{who} mailbox"] = value.split("@")[0]
            if field == "birth_date":
                found[f"{who} birth date, Dutch"] = date.fromisoformat(value).strftime("%d-%m-%Y")
    found["motivation"] = MOTIVATION
    found["changed phone"] = NEW_PHONE
    return found


@dataclass(frozen=True)
class Captured:
    texts: list[tuple[str, str]]  # (where, text)
    secrets: dict[str, str]  # what must not appear: personal data, codes, tokens, keys

    def leaks(self) -> list[str]:
        return [
            f"{what} in {where}: {text[:300]}"
            for where, text in self.texts
            for what, secret in self.secrets.items()
            if secret.casefold() in text.casefold()
        ]


@dataclass
class Scenario:
    """What the flows handed out that is secret: the participant's code and the tokens used."""

    codes: list[str] = dataclasses.field(default_factory=list)
    tokens: list[str] = dataclasses.field(default_factory=list)


def otlp_texts(receiver: OtlpReceiver) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for request in list(receiver.traces):
        for resource_spans in request.resource_spans:
            service = str(attributes(resource_spans.resource.attributes).get("service.name"))
            texts += [
                (f"{service} resource", f"{k}={v}") for k, v in attributes(resource_spans.resource.attributes).items()
            ]
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    where = f"{service} span {span.name!r}"
                    texts.append((f"{service} span name", span.name))
                    texts += [(where, f"{k}={v}") for k, v in attributes(span.attributes).items()]
                    texts.append((where + " status", span.status.message))
                    for event in span.events:
                        texts.append((where + " event", event.name))
                        texts += [
                            (f"{where} event {event.name}", f"{k}={v}") for k, v in attributes(event.attributes).items()
                        ]
                    for link in span.links:
                        texts += [(where + " link", f"{k}={v}") for k, v in attributes(link.attributes).items()]
    for request in list(receiver.metrics):
        for resource_metrics in request.resource_metrics:
            service = str(attributes(resource_metrics.resource.attributes).get("service.name"))
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    texts.append((f"{service} metric name", metric.name))
                    kind = metric.WhichOneof("data") or ""
                    for point in getattr(getattr(metric, kind), "data_points", []):
                        for pair in point.attributes:
                            texts.append(
                                (f"{service} metric {metric.name} label", f"{pair.key}={value_of(pair.value)}")
                            )
    return texts


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """The processes' JSON log lines as production writes them (setup_logging on stderr), at INFO."""
    names = ["", *FOREIGN_LOGGERS, *(n for n in logging.root.manager.loggerDict if n.startswith("faststream"))]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.propagate, logger.level)
    stream = io.StringIO()
    real_stderr = sys.stderr
    sys.stderr = stream
    try:
        setup_logging("scan", "INFO")
    finally:
        sys.stderr = real_stderr
    try:
        yield stream
    finally:
        for name, (handlers, propagate, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.setLevel(level)


async def referral_flows(platform: RunningPlatform, vt: VolunteerTenant, scenario: Scenario) -> None:
    tenant = vt.base
    scenario.tokens += [tenant.staff_a, tenant.partner_a_token]
    body = referral_body(tenant.library_a, tenant.partner_a, participant=PARTICIPANT, contact_person=REFERRER_CONTACT)
    submitted = await call(platform, tenant.partner_a_token, "POST", "/api/v1/referrals", body)
    referral_id = submitted["id"]
    base = f"/api/v1/referrals/{referral_id}"
    for route, step in (
        ("accept", None),
        (
            "plan-intake",
            {
                "intake_at": "2030-05-01T10:00:00+02:00",
                "place": "Bibliotheek Centrum",
                "contact_person": {"name": "Anna"},
            },
        ),
    ):
        done = await call(platform, tenant.staff_a, "POST", f"{base}/{route}", step)
        assert isinstance(done, dict), done.text
    issued = await call(platform, tenant.staff_a, "POST", f"{base}/participant-code", {"contact_phone": "0101234567"})
    scenario.codes.append(issued["code"])
    async with platform.client() as browser:
        page = await browser.get(issued["path"])
        assert page.status_code == 200, page.text
        typed = await browser.post("/p/", data={"code": issued["code"]})
        assert typed.status_code == 200
        change = await browser.post("/p/change", data={"code": issued["code"], "kind": "reschedule"})
        assert change.status_code == 200, change.text
        asked = await browser.post("/p/change", data={"code": issued["code"], "kind": "export"})
        assert asked.status_code == 200, asked.text
    # The same person again while the first is open: a possible duplicate for the library's staff.
    again = await call(platform, tenant.partner_a_token, "POST", "/api/v1/referrals", body)

    async def warned() -> Any:
        page = await call(platform, tenant.staff_a, "GET", "/api/v1/referrals/duplicates")
        return [w for w in page["items"] if again["id"] in (w["referral_id"], w["duplicate_of"])]

    await eventually(warned, what="the duplicate warning")
    # Outcomes follow an intake that took place: the participant came earlier than planned.
    earlier = {
        "intake_at": "2026-01-05T10:00:00+01:00",
        "place": "Bibliotheek Centrum",
        "contact_person": {"name": "Anna"},
    }
    for route, step in (("plan-intake", earlier), ("intake-held", None)):
        done = await call(platform, tenant.staff_a, "POST", f"{base}/{route}", step)
        assert isinstance(done, dict), done.text
    completed = await call(platform, tenant.staff_a, "POST", f"{base}/complete", {"outcome": {"course_finished": True}})
    assert isinstance(completed, dict), completed.text
    for path in (f"{base}", f"{base}/export", f"{base}/access-log", "/api/v1/referrals"):
        read = await call(platform, tenant.staff_a, "GET", path)
        assert isinstance(read, dict), read.text
    erased = await call(platform, tenant.staff_a, "POST", f"/api/v1/referrals/{again['id']}/erase")
    assert isinstance(erased, dict), erased.text
    # The rights of the person across referrals: found by name and birth date, which travel in the body only.
    lookup = {"name": PARTICIPANT["name"], "birth_date": PARTICIPANT["birth_date"]}
    for route in ("export", "erase"):
        done = await call(platform, tenant.staff_a, "POST", f"/api/v1/referrals/person/{route}", lookup)
        assert isinstance(done, dict), done.text
    requests = await call(platform, tenant.staff_a, "GET", "/api/v1/referrals/change-requests", status="open")
    assert isinstance(requests, dict), requests.text


async def volunteer_flows(platform: RunningPlatform, vt: VolunteerTenant, scenario: Scenario) -> None:
    scenario.tokens += [vt.organisation_token, vt.school_token]
    own = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/applications",
        {"person": VOLUNTEERS[0], "motivation": MOTIVATION, "certificate_of_conduct_required": True},
    )
    supplied = await call(
        platform,
        vt.organisation_token,
        "POST",
        "/api/v1/applications",
        {"person": VOLUNTEERS[1], "library": vt.library_a},
    )
    assert isinstance(supplied, dict), supplied.text
    volunteer_id = own["id"]
    for step in ("start_intake", "start_screening"):
        await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/{step}")
    await give_certificate(platform, vt, volunteer_id)
    active = await call(platform, vt.staff_a, "POST", f"/api/v1/volunteers/{volunteer_id}/activate")
    assert active["status"] == "active", active
    changed = await call(
        platform,
        vt.staff_a,
        "PATCH",
        f"/api/v1/volunteers/{volunteer_id}",
        {"person": {**VOLUNTEERS[0], "phone": NEW_PHONE}},
    )
    assert isinstance(changed, dict), changed.text
    surname = VOLUNTEERS[0]["name"].split()[-1]
    found = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers", name=surname)
    assert [v["id"] for v in found["items"]] == [volunteer_id]
    course_id = await course_needing_volunteers(platform, vt, 2)
    opening = await opening_for(platform, vt, course_id)
    assignment = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": volunteer_id, "kind": "course", "opening_id": opening["id"]},
    )
    assert isinstance(assignment, dict), assignment.text
    hours = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/assignments/{assignment['id']}/hours",
        {"worked_on": str(local_today()), "minutes": 90},
    )
    assert isinstance(hours, dict), hours.text
    intern = await call(
        platform,
        vt.school_token,
        "POST",
        "/api/v1/interns",
        {
            "library": vt.library_a,
            "school_partner_id": vt.school,
            "person": INTERN,
            "starts_on": str(local_today()),
            "ends_on": str(local_today() + timedelta(days=90)),
            "supervisor": SUPERVISOR,
            "learning_goals": ["klantcontact"],
        },
    )
    assert isinstance(intern, dict), intern.text
    for path in (
        f"/api/v1/volunteers/{volunteer_id}",
        f"/api/v1/volunteers/{intern['id']}",
        "/api/v1/volunteers",
        f"/api/v1/volunteers/{volunteer_id}/export",
        "/api/v1/volunteers/policy",
        "/api/v1/volunteers/access-log",
        f"/api/v1/volunteers/{volunteer_id}/access-log",
    ):
        read = await call(platform, vt.staff_a, "GET", path)
        assert isinstance(read, dict), read.text
    for path in (f"/api/v1/volunteers/{supplied['id']}/erase", f"/api/v1/volunteers/{intern['id']}/erase"):
        erased = await call(platform, vt.staff_a, "POST", path)
        assert isinstance(erased, dict) and erased["person"] is None, erased


async def resident_flows(platform: RunningPlatform, vt: VolunteerTenant, scenario: Scenario) -> None:
    """A resident signs up on the public calendar, opens their link, confirms, is listed to the library's staff,
    downloads their data, cancels and erases; the library's staff erase too (issue 22)."""
    await courses_know(platform, vt.base)
    session_id = (await schedule(platform, vt.staff_a, capacity=2))["session"]["id"]
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=10) as web:
        signed_up = await web.post(f"/m/{vt.municipality}/courses/{session_id}", data=RESIDENT)
        assert signed_up.status_code == 200, signed_up.text
        async with platform.services["courses"].sessions() as session:
            registration_id = (
                await session.execute(
                    sa.select(registrations.c.id).where(registrations.c.session_id == uuid.UUID(session_id))
                )
            ).scalar_one()
        # The link the e-mail would carry (no SMTP server in this run): the resident's key, a secret here too.
        token = ResidentVault.from_keys(
            platform.settings.encryption_key, platform.settings.blind_index_key
        ).links.token(registration_id)
        scenario.codes.append(token)
        link = f"/m/{vt.municipality}/registrations/{token}"
        assert (await web.get(link)).status_code == 200
        assert (await web.post(f"{link}/confirm")).status_code == 200
        # The library's staff read who signed up; the resident downloads their data (names in both answers).
        async with platform.client(vt.staff_a) as api:
            listed = await api.get(f"/api/v1/sessions/{session_id}/residents")
            assert listed.status_code == 200 and RESIDENT["email"] in listed.text, listed.text
        exported = await web.get(f"{link}/export")
        assert exported.status_code == 200 and RESIDENT["email"] in exported.text, exported.text
        for step in ("cancel", "erase"):
            answer = await web.post(f"{link}/{step}")
            assert answer.status_code == 200, (step, answer.text)
        async with platform.client(vt.staff_a) as api:  # asked of the library too: erased already, nothing more
            erased = await api.post(f"/api/v1/resident-registrations/{registration_id}/erase")
            assert erased.status_code == 200, erased.text


def is_this_tests_client(line: str, platform: RunningPlatform) -> bool:
    """httpx logs every request of this test's own client (it runs in the same process): those lines are the
    test's, not the platform's, which never calls its own gateway."""
    entry = json.loads(line)
    return entry["logger"] == "httpx" and platform.base_url in entry["message"]


async def run_and_capture(postgres_url: str, workdir: Path, logs: io.StringIO) -> Captured:
    generator = otlp_receiver()
    receiver = next(generator)
    broker_server = EmbeddedNats(workdir / "nats-scan")
    services: dict[str, ServiceRuntime] = {}
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None
    database_url: str | None = None
    scenario = Scenario()
    try:
        broker_server.start()
        database_url = await create_database(postgres_url)
        settings = dataclasses.replace(
            make_settings(broker_server.url, database_url, workdir / "data-scan"), otel_endpoint=receiver.url
        )
        services = {name: build(settings) for name, build in BUILDERS.items()}  # the production path: OTLP
        for runtime in services.values():
            await runtime.start()
        gateway_telemetry = setup_telemetry("gateway", otlp_endpoint=receiver.url)
        port = free_port()
        app = create_app(settings, telemetry=gateway_telemetry)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", lifespan="on"))
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        platform = RunningPlatform(f"http://127.0.0.1:{port}", settings, services, TokenIssuer(settings.jwt_secret))
        vt = await volunteer_tenant(platform)
        await referral_flows(platform, vt, scenario)
        await volunteer_flows(platform, vt, scenario)
        await resident_flows(platform, vt, scenario)
        plant_canaries(services["volunteers"])
        for runtime in services.values():
            assert runtime.monitor is not None
            await runtime.monitor.poll()
        secrets = {
            "encryption key": settings.encryption_key,
            "pseudonym key": settings.pseudonym_key,
            "blind index key": settings.blind_index_key,
            "JWT secret": settings.jwt_secret,
        }
    finally:
        if server is not None and serving is not None:
            server.should_exit = True
            await serving
        for runtime in services.values():
            await runtime.stop()  # shuts its providers down: what is left is exported now
        if server is not None:
            gateway_telemetry.shutdown()
        broker_server.stop()
        if database_url is not None:
            await drop_database(postgres_url, database_url)
        texts = otlp_texts(receiver)
        generator.close()
    secrets.update(personal_values())
    secrets["canary"] = CANARY
    secrets.update({f"participant code {i}": code for i, code in enumerate(scenario.codes)})
    secrets.update({f"token {i}": token for i, token in enumerate(scenario.tokens)})
    texts += [("log line", line) for line in logs.getvalue().splitlines() if not is_this_tests_client(line, platform)]
    return Captured(texts=texts, secrets=secrets)


async def test_no_personal_data_or_secret_in_traces_metrics_or_logs(
    postgres_url: str, workdir: Path, captured_logs: io.StringIO
) -> None:
    captured = await run_and_capture(postgres_url, workdir, captured_logs)
    # The scan saw every signal, and the run reached the flows it names.
    assert any(w.endswith("span name") for w, _ in captured.texts)
    assert any(" metric " in w for w, _ in captured.texts)
    assert any(w == "log line" for w, _ in captured.texts)
    span_names = {text for w, text in captured.texts if w.endswith("span name")}
    for operation in (
        "submit",
        "erase",
        "export",
        "open_participant_page",
        "request_participant_change",
        "apply",
        "assign",
        "register_intern",
        "register_resident",
        "take_registration_step",
        "list_session_residents",
        "export_resident_data",
        "erase_resident_data",
    ):
        assert any(f".{operation} " in name for name in span_names), f"no span of {operation}: the flow did not run"
    leaks = captured.leaks()
    canaries = [leak for leak in leaks if leak.startswith("canary in ")]
    assert {leak.split(":")[0] for leak in canaries} == {
        "canary in partnernet-volunteers span name",
        "canary in partnernet-volunteers metric scan.canaries label",
        "canary in log line",
    }, canaries
    leaks = [leak for leak in leaks if not leak.startswith("canary in ")]
    assert not leaks, "\n".join(leaks)
