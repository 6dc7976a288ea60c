"""Logs are JSON lines with trace and span ids, the service and the searchable keys; FastStream's lines too."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

from launcher.embedded import EmbeddedNats
from shared.logs import FOREIGN_LOGGERS, JsonLogFormatter, setup_logging
from shared.telemetry import tag_span
from tests.servers import create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """setup_logging changes process-wide loggers; put them back for the rest of the session."""
    names = ["", *FOREIGN_LOGGERS, *(n for n in logging.root.manager.loggerDict if n.startswith("faststream"))]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.propagate, logger.level)
    try:
        yield
    finally:
        for name, (handlers, propagate, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.setLevel(level)


def test_faststream_logger_writes_json_after_setup(restored_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    setup_logging("referrals", "INFO")
    logging.getLogger("faststream").info("callback for Task-17 is being executed...")
    logging.getLogger("faststream.access.nats").warning("a subscriber line")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    entries = [json.loads(line) for line in lines]
    assert [e["logger"] for e in entries] == ["faststream", "faststream.access.nats"]
    assert {e["service"] for e in entries} == {"referrals"}
    assert "\x1b[" not in stream.getvalue(), "no terminal colours"


def test_a_line_written_in_a_span_carries_its_ids_and_searchable_keys() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("partners"))
    logger = logging.getLogger("tests.telemetry.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        tracer = TracerProvider().get_tracer("test")
        with tracer.start_as_current_span("consume") as span:
            tag_span({"library": "bieb-a", "partner": "p-1", "pseudonym": "P-ABC", "name": "Fatima"})
            logger.info("handled")
            context = span.get_span_context()
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert (inside["library"], inside["partner"], inside["pseudonym"]) == ("bieb-a", "p-1", "P-ABC")
    assert "name" not in inside and "Fatima" not in stream.getvalue(), "only the searchable keys are kept"
    assert "trace_id" not in outside and "library" not in outside


def test_every_extra_key_is_kept_and_an_exception_is_written_out() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("courses"))
    logger = logging.getLogger("tests.telemetry.extra")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info("swept", extra={"swept": 3, "oldest_seconds": 1.5, "schema": "courses", "ids": [1, 2]})
        try:
            raise RuntimeError("the broker went away")
        except RuntimeError:
            logger.exception("relay stopped", extra={"component": "relay"})
    finally:
        logger.removeHandler(handler)
    swept, failed = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (swept["message"], swept["level"], swept["service"], swept["logger"]) == (
        "swept",
        "info",
        "courses",
        "tests.telemetry.extra",
    )
    assert (swept["swept"], swept["oldest_seconds"], swept["schema"], swept["ids"]) == (3, 1.5, "courses", [1, 2])
    assert failed["component"] == "relay" and "RuntimeError: the broker went away" in failed["exception"]


async def test_a_service_process_writes_only_json_lines(postgres_url: str, tmp_path: Path) -> None:
    broker_server = EmbeddedNats(tmp_path / "nats")  # its own: a second replica would take the session's work
    broker_server.start()
    database_url = await create_database(postgres_url)
    env = {
        **os.environ,
        "NATS_URL": broker_server.url,
        "DATABASE_URL": database_url,
        "PARTNERNET_DATA_DIR": str(tmp_path / "data"),
        "PARTNERNET_LOG_LEVEL": "DEBUG",  # asyncio names its event loop's selector at debug level
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.partners", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not lines or ("service started" not in lines[-1] and lines[-1]):
                lines.append((await process.stderr.readline()).decode())
            process.send_signal(signal.SIGTERM)
            lines += (await process.stderr.read()).decode().splitlines()
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        broker_server.stop()
        await drop_database(postgres_url, database_url)
    entries = [json.loads(line) for line in lines if line.strip()]
    assert any(e["message"] == "service started" for e in entries)
    # a library's own line (not only the project's loggers) comes out as JSON with the service's name too
    assert any(e["logger"] == "asyncio" for e in entries), entries
    assert {e["service"] for e in entries} == {"partners"}
