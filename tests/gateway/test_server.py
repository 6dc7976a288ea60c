"""The gateway's HTTP server writes a response of known length in one piece (gateway/server.py OneWriteCycle), and
keeps an idle connection open longer than clients and proxies keep theirs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from gateway.server import OneWriteCycle, server_config
from launcher.embedded.processes import free_port
from shared.settings import Settings
from tests.serving import serving


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def cycle(transport: RecordingTransport, method: str = "GET", *, keep_alive: bool = True) -> RequestResponseCycle:
    made = RequestResponseCycle(
        scope={"type": "http", "method": method, "path": "/"},  # type: ignore[typeddict-item]  # what the cycle reads
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=None,  # type: ignore[arg-type]
        access_logger=None,  # type: ignore[arg-type]
        access_log=False,
        default_headers=[],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: None,
    )
    made.__class__ = OneWriteCycle  # as BoundedHeadersProtocol.on_headers_complete does
    return made


def start(length: int | None) -> Any:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http.response.start", "status": 200, "headers": headers}


async def test_a_response_of_known_length_is_one_write_with_its_head_first() -> None:
    transport = RecordingTransport()
    answer = cycle(transport)
    await answer.send(start(11))
    assert transport.writes == [], "the head waits for the body"
    await answer.send({"type": "http.response.body", "body": b'{"id":"x"}\n', "more_body": False})
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 11" in head
    assert body == b'{"id":"x"}\n'
    assert answer.response_complete


async def test_a_body_in_parts_carries_the_head_with_its_first_part_only() -> None:
    transport = RecordingTransport()
    answer = cycle(transport)
    await answer.send(start(6))
    await answer.send({"type": "http.response.body", "body": b"abc", "more_body": True})
    await answer.send({"type": "http.response.body", "body": b"def", "more_body": False})
    assert len(transport.writes) == 2
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK") and transport.writes[0].endswith(b"\r\n\r\nabc")
    assert transport.writes[1] == b"def"


async def test_the_head_of_a_head_request_is_written_though_no_body_follows() -> None:
    transport = RecordingTransport()
    answer = cycle(transport, "HEAD")
    await answer.send(start(11))
    await answer.send({"type": "http.response.body", "body": b"", "more_body": False})
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK")


async def test_a_connection_closed_after_the_answer_gets_the_whole_answer_first() -> None:
    transport = RecordingTransport()
    answer = cycle(transport, keep_alive=False)
    await answer.send(start(2))
    await answer.send({"type": "http.response.body", "body": b"{}", "more_body": False})
    assert transport.closed
    assert len(transport.writes) == 1 and transport.writes[0].endswith(b"\r\n\r\n{}")


@pytest.mark.parametrize("chunks", [[b"data: 1\n\n"], []])
async def test_a_streamed_response_sends_its_head_at_once(chunks: list[bytes]) -> None:
    """A server-sent event stream has no length: its head must not wait for the first event."""
    transport = RecordingTransport()
    answer = cycle(transport)
    await answer.send(start(None))
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK")
    for chunk in chunks:
        await answer.send({"type": "http.response.body", "body": chunk, "more_body": True})
    assert len(transport.writes) == 1 + len(chunks)


async def test_a_connection_idle_longer_than_clients_keep_theirs_still_gets_its_answer(tmp_path: Any) -> None:
    """httpx (and many clients) reuse a pooled connection idle for up to 5 s; uvicorn's own default closed it at 5 s,
    so a request sent at that moment was dropped. The gateway's server keeps it open well past that."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    settings = Settings.from_env({"PARTNERNET_DATA_DIR": str(tmp_path)})
    port = free_port()
    async with serving(server_config(app, settings, port=port, lifespan="off")):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"
        writer.write(request)
        answers = [await asyncio.wait_for(reader.readuntil(b"ok"), timeout=10)]
        # Real idle time, deliberately: uvicorn's keep-alive timeout runs on the wall clock. Past the 5 s that
        # clients' pools and uvicorn's default agree on.
        await asyncio.sleep(6)
        writer.write(request)
        answers.append(await asyncio.wait_for(reader.readuntil(b"ok"), timeout=10))
        writer.close()
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [b"HTTP/1.1 200 OK"] * 2
