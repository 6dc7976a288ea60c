"""JSON log lines per service, on stderr, carrying the trace and the searchable keys of the current span."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec
from opentelemetry import trace

from shared.telemetry import SEARCHABLE

# What every log record has; anything else on a record came from `extra=` and is written out as it is.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_LOG_LINE = msgspec.json.Encoder(enc_hook=str)  # what JSON cannot carry is written as its str()


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line, with the trace and span of the current span.

    Every `extra=` key a call passes is kept (whatever is not a standard attribute of the record), so a new
    field shows up without this formatter knowing it. The searchable keys of the current span (library,
    partner, event type, pseudonym) are copied into the line, so logs and traces are searched the same way.
    Personal data is never put on a span, nor passed as an extra. Built by hand and encoded by msgspec: the
    gateway writes a line for every request, and python-json-logger's generic path cost ~70 µs a line (a
    sixth of the gateway's time for a read); the lines are the same (`time`, `level`, `message`, `logger`,
    `service`, the extras, `exception`, `trace_id`, `span_id`).
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
            "logger": record.name,
            "service": self.service,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        span = trace.get_current_span()
        span_context = span.get_span_context()
        if span_context.is_valid:
            line["trace_id"] = format(span_context.trace_id, "032x")
            line["span_id"] = format(span_context.span_id, "016x")
            attributes = getattr(span, "attributes", None) or {}
            for key in SEARCHABLE:
                if key not in line and (value := attributes.get(f"partnernet.{key}")) is not None:
                    line[key] = value
        return _LOG_LINE.encode(line).decode()


# Libraries that give their loggers a handler of their own (and stop them propagating): FastStream does
# so at import, with coloured text on stderr; uvicorn does so when it starts unless told otherwise.
FOREIGN_LOGGERS = ("faststream", "uvicorn", "uvicorn.error", "uvicorn.access")


def setup_logging(service: str, level: str) -> None:
    # A line says none of where in the code it was written, nor which thread or process (the service and the
    # trace say what matters): the logging docs' "Optimization" switches, so no record collects them.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    import faststream  # noqa: F401  - installs its handler on import; it must have done so before we remove it

    names = set(FOREIGN_LOGGERS) | {name for name in logging.root.manager.loggerDict if name.startswith("faststream")}
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
