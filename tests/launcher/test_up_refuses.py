"""What `partnernet up` and the operator's commands refuse, and how: a data directory another `up` runs in, a port
that is taken or no port, a setting that cannot be used, a failing migration, a data directory no platform ran in.
Each is one line an operator can act on, no traceback, nothing started or made that was not there."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.cli import main
from launcher.embedded import EmbeddedNats, free_port
from launcher.platform import hold_data_dir
from tests.processes import processes_using

BIN = Path(sys.executable).parent
# Long enough for the imports on a loaded machine; a refusal itself comes before any server starts.
REFUSED_WITHIN_SECONDS = 120


def up(data_dir: Path, port: int, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}  # the embedded default
    return subprocess.run(
        [str(BIN / "partnernet"), "--data-dir", str(data_dir), "up", "--port", str(port)],
        env=env | variables,
        capture_output=True,
        text=True,
        timeout=REFUSED_WITHIN_SECONDS,
    )


def said_nothing_started(done: subprocess.CompletedProcess[str], data_dir: Path) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert "NATS: started" not in done.stdout, done.stdout
    assert not (data_dir / "nats").exists() and not (data_dir / "postgres").exists()
    assert processes_using(data_dir) == {}


def test_a_second_up_on_a_data_directory_in_use_starts_nothing_and_says_who_holds_it(tmp_path: Path) -> None:
    """A second `up` there started a second nats-server writing into the running one's JetStream store."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    held = hold_data_dir(data_dir)  # as the `up` that runs holds it
    try:
        done = up(data_dir, free_port())
    finally:
        held.close()
    said_nothing_started(done, data_dir)
    assert (
        f"partnernet up: could not start: another `partnernet up` runs in {data_dir} (pid {os.getpid()}): stop it "
        "first, or give another --data-dir"
    ) in done.stdout, done.stdout


def test_a_nats_server_left_running_on_a_store_is_not_joined_by_a_second(tmp_path: Path) -> None:
    """Where the `up` was killed and its nats-server lives on, the data directory's lock is free: the store's own
    pid file refuses the second server."""
    with EmbeddedNats(tmp_path / "nats") as running:
        second = EmbeddedNats(tmp_path / "nats")
        with pytest.raises(RuntimeError, match=f"nats-server pid {running.pid} is already running on"):
            second.start()
        assert second.pid is None and running.is_running


@pytest.mark.parametrize("taken", [True, False], ids=["a port in use", "no port at all"])
def test_a_port_that_is_taken_or_no_port_is_refused_before_anything_starts(tmp_path: Path, taken: bool) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1] if taken else 99999
        done = up(tmp_path / "data", port)
    said_nothing_started(done, tmp_path / "data")
    expected = f"port {port} on 127.0.0.1 is in use" if taken else "port 99999 is not a TCP port (1-65535)"
    assert f"partnernet up: could not start: {expected}" in done.stdout, done.stdout


def test_a_setting_that_cannot_be_used_is_named_before_anything_starts(tmp_path: Path) -> None:
    done = up(tmp_path / "data", free_port(), PARTNERNET_RPC_TIMEOUT="abc")
    said_nothing_started(done, tmp_path / "data")
    assert "partnernet up: PARTNERNET_RPC_TIMEOUT='abc' is not a number" in done.stderr, done.stderr


@pytest.mark.timeout(300)
def test_a_setting_a_service_refuses_stops_the_start_at_the_migrations_with_its_reason(tmp_path: Path) -> None:
    """Refused where the services are built (the partners' feed window): was the migrations' CalledProcessError
    with the child's traceback on the terminal."""
    data_dir = tmp_path / "data"
    done = subprocess.run(
        [str(BIN / "partnernet"), "--data-dir", str(data_dir), "up", "--port", str(free_port())],
        env={k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
        | {"PARTNERNET_FEED_RETENTION_DAYS": "1"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert "partnernet up: could not start: the migrations failed: ValueError: PARTNERNET_FEED_RETENTION_DAYS must" in (
        done.stdout
    ), done.stdout
    assert "Traceback" in (data_dir / "logs" / "migrate.log").read_text(), "the whole story is in the log"
    assert "partnernet stopped" in done.stdout and processes_using(data_dir) == {}


@pytest.mark.parametrize(
    ("command", "needs"),
    [
        (["token", "--role", "operator"], "PARTNERNET_JWT_SECRET"),
        (["deadletters", "list"], "NATS_URL"),
        (["migrate"], "DATABASE_URL"),
    ],
    ids=["token", "deadletters", "migrate"],
)
def test_a_command_on_a_data_directory_no_platform_ran_in_says_so_and_makes_no_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], needs: str
) -> None:
    """A mistyped --data-dir: the token was signed with a new secret made there, which no gateway accepts."""
    for variable in ("NATS_URL", "DATABASE_URL", "PARTNERNET_JWT_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))  # main() sets it; this restores it afterwards
    typo = tmp_path / "typo"
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(typo), *command])
    assert str(exited.value.code) == (
        f"partnernet {command[0]}: no `partnernet up` has run with --data-dir {typo}: pass the --data-dir of the one "
        f"that runs (default ./.partnernet, or PARTNERNET_DATA_DIR), or set {needs}"
    )
    assert not typo.exists() or list(typo.rglob("*")) == [], "no secrets made, no audit written"


def test_a_data_directory_that_is_a_file_is_said_to_be_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a data directory")
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(a_file), "token", "--role", "operator"])
    assert str(exited.value.code) == f"partnernet token: --data-dir {a_file} is a file, not a directory"
