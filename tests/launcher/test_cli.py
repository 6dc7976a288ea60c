"""The README's run command: `partnernet up` on the embedded servers, healthy in time, clean on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest

from launcher.cli import service_builders
from launcher.embedded import free_port
from shared.messaging import SERVICES
from shared.settings import secret_from_data_dir

BIN = Path(sys.executable).parent
READY_LINE = "Ctrl-C stops everything."


def start_up(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}  # the embedded default
    started = time.monotonic()
    process = subprocess.Popen(
        [str(BIN / "partnernet"), "--data-dir", str(data_dir), "up", "--port", str(port), "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(READY_LINE) or time.monotonic() - started > 60:
            break
    return process, lines, time.monotonic() - started


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


@pytest.mark.slow
def test_up_is_healthy_within_30_seconds_keeps_its_data_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    process, lines, took = start_up(data_dir, port)
    try:
        assert any(line.startswith(READY_LINE) for line in lines), "\n".join(lines)
        assert took < 30, f"took {took:.1f}s"
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/schema/openapi.json", timeout=5).status_code == 200
        first_partners = sorted(re.findall(r"partner (.+?) \(([0-9a-f-]{36})\)", "\n".join(lines)))
        assert len(first_partners) == 5
        staff_token = next(line.split(": ")[-1] for line in lines if "staff of bibliotheek-zuidstad-centrum" in line)
    finally:
        assert stop(process) == 0
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)

    # The token is signed with the data directory's secret, and names its library's scope.
    claims = jwt.decode(
        staff_token, secret_from_data_dir(data_dir, "jwt-secret"), algorithms=["HS256"], audience="partnernet-api"
    )
    assert claims["role"] == "staff" and claims["library"] == "bibliotheek-zuidstad-centrum"

    # A second run on the same data directory finds the same municipality and partners.
    process, lines, _ = start_up(data_dir, port)
    try:
        again = sorted(re.findall(r"partner (.+?) \(([0-9a-f-]{36})\)", "\n".join(lines)))
        assert again == first_partners
        token = subprocess.run(
            [
                str(BIN / "partnernet"),
                "--data-dir",
                str(data_dir),
                "token",
                "--role",
                "staff",
                "--library",
                "bibliotheek-zuidstad-noord",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        response = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/partners", timeout=5, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        assert len(response.json()["items"]) == 5
    finally:
        assert stop(process) == 0


def test_the_launcher_runs_every_service_the_platform_declares() -> None:
    assert list(service_builders()) == list(SERVICES)
