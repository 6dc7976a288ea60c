"""A process that exits while the platform starts is started once more, as the supervisor would; a second exit of
the same process fails the start (launcher/platform.py wait_until_healthy)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from launcher.platform import Platform

# Exits at its first start (it leaves a mark), runs at its second.
ONCE_THEN_RUNS = (
    "import os,sys,time;m=sys.argv[1];f=os.path.exists(m);open(m,'a').close();sys.exit(1) if not f else time.sleep(60)"
)
ALWAYS_EXITS = "import sys;sys.exit(1)"


def platform_running(
    tmp_path: Path, program: str, monkeypatch: pytest.MonkeyPatch, *, healthy_while_running: bool = True
) -> Platform:
    platform = Platform(data_dir=tmp_path / "data", port=1, environ={}, health_deadline=20)
    platform.logs.mkdir(parents=True)
    platform._commands["stub"] = [sys.executable, "-c", program, str(tmp_path / "started-once")]
    platform._spawn("stub")
    platform.processes["stub"].wait(timeout=30)  # its first start has ended

    def health(url: str, **_: object) -> httpx.Response:  # the platform answers healthy once the stub runs
        running = platform.processes["stub"].poll() is None
        status = 200 if healthy_while_running and running else 503
        return httpx.Response(status, json={"services": {}}, request=httpx.Request("GET", url))

    monkeypatch.setattr("launcher.platform.httpx.get", health)
    return platform


def test_a_process_that_exits_at_start_is_started_once_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform = platform_running(tmp_path, ONCE_THEN_RUNS, monkeypatch)
    said: list[str] = []
    platform.progress = said.append
    try:
        platform.wait_until_healthy()
        assert platform.processes["stub"].poll() is None, "started again and running"
        assert any("stub: exited during start" in line and "starting it again" in line for line in said), said
    finally:
        platform.processes["stub"].kill()
        platform.processes["stub"].wait(timeout=10)
        for log in platform._log_files.values():
            log.close()


def test_a_process_that_exits_twice_at_start_fails_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform = platform_running(tmp_path, ALWAYS_EXITS, monkeypatch, healthy_while_running=False)
    platform.progress = lambda _line: None
    try:
        with pytest.raises(RuntimeError, match="stub exited during start again"):
            platform.wait_until_healthy()
    finally:
        for log in platform._log_files.values():
            log.close()


def test_a_start_that_fails_on_another_gateway_names_it_and_what_it_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster's first gateway answers healthy while the second never does: the failed start says which gateway and
    what it answered, not the first gateway's healthy answer."""
    platform = Platform(data_dir=tmp_path / "data", port=1, environ={}, health_deadline=1)
    platform.progress = lambda _line: None
    second = "http://127.0.0.1:2"
    platform.gateway_urls = [platform.base_url, second]

    def health(url: str, **_: object) -> httpx.Response:
        if url.startswith(second):
            return httpx.Response(503, json={"status": "down"}, request=httpx.Request("GET", url))
        return httpx.Response(200, json={"status": "up", "services": {}}, request=httpx.Request("GET", url))

    monkeypatch.setattr("launcher.platform.httpx.get", health)
    with pytest.raises(RuntimeError, match=r"http://127\.0\.0\.1:2: 503 .*down"):
        platform.wait_until_healthy()
