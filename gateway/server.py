"""The gateway's HTTP server: `python -m gateway` and `partnernet gateway` both serve the app this way, and the
tests' gateways are configured by `server_config` too. uvicorn, with two settings of our own:

- Request line and headers together may be at most `PARTNERNET_MAX_HEADER_BYTES` (16 KiB unless set); beyond
  that the connection gets a 431 problem and is closed, before the request reaches the application. uvicorn's
  fast parser (httptools) has no such bound of its own: it would buffer megabytes of headers.
- `X-Forwarded-For` / `X-Forwarded-Proto` are believed only from the addresses in `PARTNERNET_TRUSTED_PROXIES`
  (none unless set). uvicorn on its own trusts them from loopback, so anyone on the host could pick the address
  that the per-address limits (the participant page's lockout, anonymous rate limits) count.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import msgspec
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from gateway.app import create_app
from shared.heap import freeze_after_start
from shared.logs import setup_logging
from shared.servers import ServerUnreachable, check_nats
from shared.settings import Settings

log = logging.getLogger(__name__)
LINGER_SECONDS = 1.0
# How long an idle kept-alive connection stays open. uvicorn's 5 s is exactly httpx's (and many clients') pool
# expiry: a client that takes a connection idle for 4.99 s sends its request as the server closes it, and gets
# a dropped connection instead of an answer (the cluster fault tests saw one in a hundred submissions). Behind a
# load balancer or ingress the backend must also keep connections longer than the proxy's own idle timeout
# (60 s for nginx, AWS ALB, GCP), or the proxy answers 502 on the same race. So: longer than all of them.
KEEP_ALIVE_SECONDS = 75


class HeadersTooLarge(Exception):
    """Raised inside the parser's callback: httptools turns it into a parser error, answered below with a 431."""


class HeldHead:
    """The transport of one response whose length is known: its head is held and written with the first part of
    its body, so the response leaves in one system call (and one TCP segment) instead of two."""

    __slots__ = ("_head", "_transport", "holding")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head = b""
        self.holding = True

    def write(self, data: bytes) -> None:
        if self.holding:
            self._head += data
            return
        if self._head:
            data, self._head = self._head + data, b""
        self._transport.write(data)

    def flush(self) -> None:
        """Write a head still held (a HEAD request's: no body is written after it)."""
        self.holding = False
        if self._head:
            self.write(b"")

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteCycle(RequestResponseCycle):
    """uvicorn's cycle of one request and its response, with a response of known length written in one piece.

    uvicorn writes the head when the app starts the response and the body when it sends it: two system calls
    for every response, a quarter of the gateway's time for a read. A streamed response (no content-length, a
    server-sent event stream) is written as before: its head must not wait for an event.
    """

    async def send(self, message: Any) -> None:
        if message["type"] == "http.response.start" and not self.response_started and _has_length(message):
            held = HeldHead(self.transport)
            self.transport = held  # type: ignore[assignment]
            await super().send(message)
            held.holding = False
            return
        await super().send(message)
        if isinstance(self.transport, HeldHead) and not message.get("more_body", False):
            self.transport.flush()


def _has_length(message: Any) -> bool:
    return any(name.lower() == b"content-length" for name, _ in message.get("headers", ()))


class BoundedHeadersProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that refuses a request whose line and headers pass `max_header_bytes`.

    Counted twice over: exactly, from what the parser hands over (the URL and each header), and roughly, from
    the bytes received while the headers are still incomplete, for one header the parser is still buffering.
    """

    max_header_bytes = 16 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._received_in_head = 0
        self._head_bytes = 0
        self._too_large = False

    def data_received(self, data: bytes) -> None:
        if self._too_large:
            return  # answered: what else arrives is read and dropped until the connection closes
        if self._reading_head:
            self._received_in_head += len(data)
        super().data_received(data)
        if self._reading_head and self._received_in_head > self.max_header_bytes and not self._too_large:
            self._too_large = True
            self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._count(len(name) + len(value) + 4)  # ": " and CRLF

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()
        # uvicorn made the cycle (its task has not run yet): the same object, with one write per response.
        if type(self.cycle) is RequestResponseCycle:
            self.cycle.__class__ = OneWriteCycle

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head, self._received_in_head = True, 0

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_header_bytes:
            self._too_large = True
            raise HeadersTooLarge

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _refuse(self) -> None:
        if self.transport.is_closing():
            return
        body = msgspec.json.encode(
            {
                "type": "urn:partnernet:problem:headers-too-large",
                "title": "Request Header Fields Too Large",
                "status": 431,
                "detail": f"the request line and headers are larger than {self.max_header_bytes} bytes",
                "instance": "",
            }
        )
        head = (
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/problem+json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        # Closing at once with unread bytes makes the kernel reset the connection, and the client then never reads
        # the answer. Read and drop for a moment instead (a lingering close), then close.
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def bounded_headers(max_header_bytes: int) -> type[asyncio.Protocol]:
    return type("BoundedHeadersProtocol", (BoundedHeadersProtocol,), {"max_header_bytes": max_header_bytes})


def server_config(app: Any, settings: Settings, *, port: int | None = None, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of a gateway: `partnernet gateway` and the tests' gateways serve with it."""
    proxies = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port if port is None else port,
        http=bounded_headers(settings.max_header_bytes),
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
        **{"log_level": "warning", "timeout_keep_alive": KEEP_ALIVE_SECONDS, **options},
    )


def serve(settings: Settings | None = None, port: int | None = None, *, share_port: bool = False) -> None:
    """`share_port`: one of several gateway processes `partnernet up` starts on the port (it checked that nobody
    else listens there); a gateway on its own (`partnernet gateway`, a container) binds the port as usual."""
    settings = settings or Settings.from_env()
    setup_logging("gateway", settings.log_level)
    try:
        asyncio.run(check_nats(settings.nats_url))
    except ServerUnreachable as exc:
        # Without this the app's start-up would wait for NATS for ever, answering nothing and saying nothing.
        log.error("cannot start: %s", exc)
        raise SystemExit(f"partnernet-gateway cannot start: {exc}") from None
    app = create_app(settings)
    # Last of the start-up hooks: what start-up built is frozen out of the collector's full collections.
    app.on_startup.append(freeze_after_start)
    config = server_config(
        app,
        settings,
        port=port or None,
        access_log=False,
        log_config=None,  # keep our JSON lines: uvicorn would install text handlers of its own
    )
    if share_port:
        # One of several gateway processes on the port: each binds it with SO_REUSEPORT and the kernel spreads
        # new connections over them. One Python process could not keep up.
        uvicorn.Server(config).run(sockets=[shared_port(config.host, config.port)])
    else:
        uvicorn.Server(config).run()


def shared_port(host: str, port: int) -> socket.socket:
    """A listening socket that other gateway processes of the same user bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    # Bound, not yet listening: asyncio's create_server listens once uvicorn has run the app's start-up. A socket
    # listening earlier would be given its share of new connections by the kernel while this process cannot
    # answer them yet (seconds on a loaded machine, while the other gateway process could).
    return listener
