"""The reference servers, each run in its own process: a bare Litestar JSON endpoint, a static HTTP responder
(the load generator's own ceiling), a trivial NATS responder, and a trivial operation answered through the
platform's own RPC layer (shared.rpc, telemetry and metrics included).

`python -m benchmarks.targets bare PORT | static PORT | responder NATS_URL SUBJECT | rpc NATS_URL`
"""

from __future__ import annotations

import asyncio
import signal
import sys

import msgspec

from shared.operations import Operations


class Echo(msgspec.Struct, frozen=True):
    referral_id: str


# The operation the RPC target answers: declared like a service's, called like the gateway calls one.
ECHO = Operations("partnernet-bench").declare("echo", Echo, Echo, summary="What the RPC layer costs alone")

# A body the size of a small view, so the bare endpoint serialises something real.
BARE_BODY: dict[str, object] = {
    "id": "0190f0c8-2b5e-7cc1-8d7e-2c4a8f9e1b23",
    "status": "submitted",
    "library": "bibliotheek-zuidstad-centrum",
    "municipality": "zuidstad",
    "needs": [{"area": "language", "level": "A2"}, {"area": "job_seeking", "level": None}],
    "reason": "Wil solliciteren; Nederlands lezen en schrijven gaat nog moeizaam",
}


def serve_bare(port: int) -> None:
    import uvicorn
    from litestar import Litestar, get

    @get("/bare")
    async def bare() -> dict[str, object]:
        return BARE_BODY

    # The same server settings as `partnernet gateway` (gateway/server.py serve).
    uvicorn.run(Litestar(route_handlers=[bare]), host="127.0.0.1", port=port, log_level="warning", access_log=False)


class StaticResponder(asyncio.Protocol):
    """Answers every request head with the same bytes: no parsing beyond the blank line."""

    RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        count = self.buffer.count(b"\r\n\r\n")
        if count:
            self.buffer = self.buffer[self.buffer.rfind(b"\r\n\r\n") + 4 :]
            self.transport.write(self.RESPONSE * count)


async def serve_static(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(StaticResponder, "127.0.0.1", port)
    await _until_signalled()
    server.close()


async def serve_responder(nats_url: str, subject: str) -> None:
    import nats
    from nats.aio.msg import Msg

    nc = await nats.connect(nats_url)

    async def reply(msg: Msg) -> None:
        await msg.respond(b"ok")

    await nc.subscribe(subject, queue="bench", cb=reply)
    await nc.flush()
    print("ready", flush=True)
    await _until_signalled()
    await nc.close()


async def serve_rpc(nats_url: str) -> None:
    """`rpc.partnernet-bench.echo`: what a service's operation costs before its use case does anything, answered
    the way a service answers (shared.rpc with the runtime's metrics and telemetry around the use case)."""
    import nats

    from shared.metrics import observe_operation
    from shared.rpc.server import RpcServer
    from shared.telemetry import setup_telemetry
    from shared.tenancy import Actor

    telemetry = setup_telemetry("bench", otlp_endpoint=None)
    server = RpcServer("partnernet-bench", telemetry.tracer("partnernet.rpc"))

    async def echo(actor: Actor, body: Echo) -> Echo:
        return body

    server.bind(ECHO, observe_operation(telemetry, ECHO.service, ECHO.name, echo))
    connection = await nats.connect(nats_url)
    await server.start(connection)
    print("ready", flush=True)
    await _until_signalled()
    await server.stop()
    await connection.close()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def main() -> None:
    kind, *args = sys.argv[1:]
    if kind == "bare":
        serve_bare(int(args[0]))
    elif kind == "static":
        asyncio.run(serve_static(int(args[0])))
    elif kind == "responder":
        asyncio.run(serve_responder(args[0], args[1]))
    elif kind == "rpc":
        asyncio.run(serve_rpc(args[0]))
    else:
        raise SystemExit(f"unknown target {kind!r}")


if __name__ == "__main__":
    main()
