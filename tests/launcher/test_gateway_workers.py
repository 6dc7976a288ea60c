"""`up` starts several gateway processes on one port (SO_REUSEPORT), and only on a port nobody else listens on."""

from __future__ import annotations

import socket

import pytest

from gateway.server import shared_port
from launcher.platform import gateway_commands, gateway_processes, port_is_free


def test_the_gateway_processes_are_named_apart() -> None:
    assert gateway_processes(1) == ["gateway"]
    assert gateway_processes(3) == ["gateway", "gateway-2", "gateway-3"]


def test_only_several_gateway_processes_share_the_port() -> None:
    (alone,) = gateway_commands(1).values()
    assert alone[-3:] == ["-m", "gateway", "--name", "gateway"][-3:] and "--share-port" not in alone
    several = gateway_commands(2)
    assert list(several) == ["gateway", "gateway-2"]
    assert all(argv[-1] == "--share-port" for argv in several.values())
    assert several["gateway-2"][-3:] == ["--name", "gateway-2", "--share-port"]


def test_two_gateway_processes_share_the_port_but_another_platform_is_refused_it() -> None:
    first = shared_port("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = shared_port("127.0.0.1", port)  # the second gateway process of the same platform
    try:
        for listener in (first, second):
            # Bound only: a gateway process listens once its app has started (asyncio's create_server does).
            assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 0
            listener.listen()
        with pytest.raises(RuntimeError, match="in use"):
            port_is_free("127.0.0.1", port)
    finally:
        first.close()
        second.close()
    port_is_free("127.0.0.1", port)  # nobody listens any more


def test_a_port_a_plain_server_listens_on_is_refused() -> None:
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", 0))
        plain.listen()
        with pytest.raises(RuntimeError, match="in use"):
            port_is_free("127.0.0.1", plain.getsockname()[1])
