"""The README's run command: `partnernet up` on the embedded servers, healthy in time, clean on Ctrl-C."""

from __future__ import annotations

import mailbox
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from launcher.cli import service_builders
from launcher.embedded import free_port
from shared.messaging import SERVICES
from shared.settings import secret_from_data_dir
from tests.processes import processes_using
from tests.referral_bodies import referral_body
from tests.waiting import PATIENCE_SECONDS

BIN = Path(sys.executable).parent
READY_LINE = "Ctrl-C stops everything."


# What `up` says while it starts, in this order, each on a line of its own.
START_STEPS = [
    r"NATS: started at nats://127\.0\.0\.1:\d+, (a new store|its streams reused)",
    r"PostgreSQL: started at 127\.0\.0\.1:\d+, (initialised|its data reused)",
    r"migrations: (applied \d+ \(partners \d+.*\)|every schema up to date)",
    r"started partners, referrals, volunteers, courses, gateway, gateway-2; waiting until each answers",
]
# A bound that says `up` does not hang, not how fast it is: the README gives the measured figures, which on a
# machine busy with other test runs are several times those of a quiet one
# (measured: past 120 s at a load average of 22, the gateway alone ready after 87 s).
START_LIMIT_SECONDS = 240


def start_up(
    data_dir: Path, port: int, *, data_dir_after_command: bool = False
) -> tuple[subprocess.Popen[str], list[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}  # the embedded default
    started = time.monotonic()
    # The program's own option is accepted before the command and after it.
    where = ["up", "--data-dir", str(data_dir)] if data_dir_after_command else ["--data-dir", str(data_dir), "up"]
    process = subprocess.Popen(
        [str(BIN / "partnernet"), *where, "--port", str(port), "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(READY_LINE) or time.monotonic() - started > START_LIMIT_SECONDS:
            break
    return process, lines, time.monotonic() - started


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    returncode = process.wait(timeout=30)
    assert process.stdout is not None
    said = process.stdout.read()
    assert re.search(r"^partnernet stopped \(\d+\.\d+s\); its data stays in ", said, re.MULTILINE), said
    return returncode


def said_in_order(lines: list[str], patterns: list[str]) -> bool:
    found = [next((i for i, line in enumerate(lines) if re.search(p, line)), -1) for p in patterns]
    return -1 not in found and found == sorted(found)


@pytest.mark.slow
@pytest.mark.timeout(3 * START_LIMIT_SECONDS)  # two starts and the stops, on a machine that may be busy
def test_up_says_each_step_becomes_healthy_keeps_its_data_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    process, lines, took = start_up(data_dir, port)
    try:
        assert any(line.startswith(READY_LINE) for line in lines), "\n".join(lines)
        assert took < START_LIMIT_SECONDS, f"took {took:.1f}s"
        steps = [*START_STEPS, *(rf"{name}: ready \(" for name in ("gateway", *SERVICES)), r"partnernet is up in"]
        assert said_in_order(lines, steps), "\n".join(lines)
        assert any("new store" in line for line in lines) and any("initialised" in line for line in lines)
        assert any(f"http://127.0.0.1:{port}/asyncapi.json" in line for line in lines), "\n".join(lines)
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=PATIENCE_SECONDS).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/schema/openapi.json", timeout=PATIENCE_SECONDS).status_code == 200
        # The demo's courses are on its residents' calendar (what each holds: tests/launcher/test_demo_courses.py).
        feed = httpx.get(f"http://127.0.0.1:{port}/m/zuidstad/courses.ics", timeout=PATIENCE_SECONDS).text
        assert "Klik & Tik: de basis (1/4)" in feed and "Grip op je geld (1/4)" in feed, feed
        first_partners = sorted(re.findall(r"partner (.+?) \(([0-9a-f-]{36})\)", "\n".join(lines)))
        assert len(first_partners) == 5
        staff_token = next(line.split(": ")[-1] for line in lines if "staff of bibliotheek-zuidstad-centrum" in line)
        notices_reach_the_mail_catcher_and_the_console(lines, port, data_dir)
    finally:
        assert stop(process) == 0
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    assert processes_using(data_dir) == {}  # the mail catcher stopped with the rest

    # The token is signed with the data directory's secret, and names its library's scope.
    claims = jwt.decode(
        staff_token, secret_from_data_dir(data_dir, "jwt-secret"), algorithms=["HS256"], audience="partnernet-api"
    )
    assert claims["role"] == "staff" and claims["library"] == "bibliotheek-zuidstad-centrum"

    # A second run on the same data directory (named after the command this time) finds the same municipality
    # and partners, and says it reused the servers' data.
    process, lines, _ = start_up(data_dir, port, data_dir_after_command=True)
    try:
        assert any("its streams reused" in line for line in lines) and any("data reused" in line for line in lines)
        assert any("every schema up to date" in line for line in lines), "\n".join(lines)
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
            timeout=START_LIMIT_SECONDS,  # seconds on a quiet machine; a busy one takes much longer to start Python
        ).stdout.strip()
        response = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/partners",
            timeout=PATIENCE_SECONDS,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert len(response.json()["items"]) == 5
    finally:
        assert stop(process) == 0


def notices_reach_the_mail_catcher_and_the_console(lines: list[str], port: int, data_dir: Path) -> None:
    """The whole flow on one machine: a partner's referral, the library's demo staff told by e-mail, the message
    caught by `up`'s mail catcher in the data directory and shown to the operator in the console."""
    said = "\n".join(lines)
    assert re.search(r"mail catcher: smtp://127\.0\.0\.1:\d+, messages kept in .*/mail", said), said
    assert re.search(rf"  mail: +smtp://127\.0\.0\.1:\d+ .*http://127\.0\.0\.1:{port}/console/mail", said), said
    token_of = {line.split(":")[0].strip(): line.rsplit(": ", 1)[-1] for line in lines if line.startswith("  ")}
    coordinator, operator = token_of["coordinator"], token_of["operator"]
    partner_line = next(line for line in lines if line.startswith("  partner UWV Zuidstad ("))
    partner_id = re.findall(r"\(([0-9a-f-]{36})\)", partner_line)[0]
    partner = partner_line.rsplit(": ", 1)[-1]
    base = f"http://127.0.0.1:{port}"
    agreed = httpx.post(
        f"{base}/api/v1/referrals/agreements",
        json={"partner_id": partner_id},
        headers={"Authorization": f"Bearer {coordinator}"},
        timeout=PATIENCE_SECONDS,
    )
    assert agreed.status_code in (201, 409), agreed.text
    body = referral_body("bibliotheek-zuidstad-centrum", partner_id)
    submitted = httpx.post(
        f"{base}/api/v1/referrals", json=body, headers={"Authorization": f"Bearer {partner}"}, timeout=PATIENCE_SECONDS
    )
    assert submitted.status_code == 201, submitted.text
    reference = submitted.json()["id"][-8:]
    staff_address = "demo-staff-bibliotheek-zuidstad-centrum@demo.partnernet.example"
    deadline = time.monotonic() + 60
    caught: list[Any] = []
    while not caught and time.monotonic() < deadline:
        caught = [m for m in mailbox.Maildir(data_dir / "mail", create=False) if m["To"] == staff_address]
        time.sleep(0.2)
    assert [m["Subject"] for m in caught] == [f"Nieuwe doorverwijzing {reference}"]
    assert body["participant"]["name"] not in caught[0].as_string()
    with httpx.Client(base_url=base, timeout=PATIENCE_SECONDS) as console:
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', console.get("/console/sign-in").text)
        assert csrf is not None
        console.post("/console/sign-in", data={"token": operator, "csrf_token": csrf.group(1)})
        page = console.get("/console/mail")
    assert page.status_code == 200
    assert staff_address in page.text and f"Nieuwe doorverwijzing {reference}" in page.text


def test_the_launcher_runs_every_service_the_platform_declares() -> None:
    assert list(service_builders()) == list(SERVICES)


@pytest.mark.slow
@pytest.mark.timeout(2 * START_LIMIT_SECONDS)
@pytest.mark.parametrize(
    ("sig", "to_the_group"),
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)],
    # A terminal's Ctrl-C goes to its whole foreground group: `up` and the migrations it runs right then.
    ids=["ctrl-c", "ctrl-c-in-a-terminal", "sigterm"],
)
def test_ctrl_c_or_sigterm_while_starting_stops_what_had_started_and_says_so(
    tmp_path: Path, sig: signal.Signals, to_the_group: bool
) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    process = subprocess.Popen(
        [str(BIN / "partnernet"), "up", "--data-dir", str(data_dir), "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job has
    )
    assert process.stdout is not None
    said = []
    for line in process.stdout:
        said.append(line)
        if "PostgreSQL: started" in line:  # NATS and PostgreSQL run; the services do not yet
            break
    assert processes_using(data_dir), "the embedded servers run"
    if to_the_group:
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while not any("launcher migrate" in command for command in processes_using(data_dir).values()):
            assert time.monotonic() < deadline, "the migrations did not start"
            time.sleep(0.02)
        os.killpg(process.pid, sig)  # the migrations run now: they get it too, if they are in the group
    else:
        process.send_signal(sig)
    try:
        rest, _ = process.communicate(timeout=START_LIMIT_SECONDS)
    except subprocess.TimeoutExpired as timed_out:
        process.kill()  # the fixture's guard stops the servers it started
        rest = timed_out.output.decode() if isinstance(timed_out.output, bytes) else str(timed_out.output or "")
        pytest.fail(f"`up` ran on {START_LIMIT_SECONDS} s after {sig.name}:\n" + "".join(said) + rest)
    assert process.returncode == 0, rest
    assert "interrupted while starting" in rest and "partnernet stopped (" in rest, "".join(said) + rest
    # Nothing started after the request: the start left at the step it was in (the migrations at the latest).
    assert "ready (" not in rest, "".join(said) + rest
    assert processes_using(data_dir) == {}
