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

import contextlib
import dataclasses
import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import uvicorn

from gateway.app import create_app
from launcher.embedded import EmbeddedNats, free_port
from shared.logs import FOREIGN_LOGGERS, setup_logging
from shared.service import ServiceRuntime
from shared.telemetry import setup_telemetry
from shared.tokens import TokenIssuer
from tests.fixtures.platform import BUILDERS, RunningPlatform, make_settings
from tests.servers import create_database, drop_database
from tests.services.volunteers.volunteer_tenant import (
    volunteer_tenant,
)
from tests.serving import serving
from tests.telemetry.personal_data_flows import (
    INTERN,
    MOTIVATION,
    NEW_PHONE,
    PARTICIPANT,
    REFERRER_CONTACT,
    RESIDENT,
    SUPERVISOR,
    VOLUNTEERS,
    Scenario,
    referral_flows,
    resident_flows,
    volunteer_flows,
)
from tests.telemetry.receiver import OtlpReceiver, attributes, otlp_receiver, value_of

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
    gateway_server = contextlib.AsyncExitStack()  # once it serves
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
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", lifespan="on")
        server = await gateway_server.enter_async_context(serving(config))
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
        await gateway_server.aclose()  # the gateway stops first
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
