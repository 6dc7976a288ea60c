"""Every `partnernet` command answers within seconds with a clear message when its servers are not there:
a port nobody listens on (refused) and one that accepts but never speaks (a paused or foreign server)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

import shared.servers
from launcher.backup import SECRETS
from launcher.cli import main
from launcher.embedded import EmbeddedNats
from launcher.operator_tokens import AUDIT_FILE
from shared.broker import create_broker
from shared.consumer import CONSUMER, ORIGINAL_STREAM, ORIGINAL_SUBJECT
from shared.deadletters import list_dead_letters, replay_dead_letters
from shared.messaging import DEAD_LETTER_STREAM, declare_streams, event_stream_name
from shared.telemetry import setup_telemetry

REPO = Path(__file__).resolve().parents[2]
# In-process, after imports: the CLI's own bound is a few seconds per server; the rest is a loaded machine.
ANSWERS_WITHIN_SECONDS = 12.0


@contextlib.contextmanager
def absent_server(kind: str) -> Iterator[int]:
    """A port where no server answers: `refused` (nothing listens) or `silent` (accepts, never speaks)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        if kind == "silent":
            sock.listen(16)
        port = sock.getsockname()[1]
        if kind == "refused":
            sock.close()
        yield port


def run_cli(argv: list[str], data_dir: Path) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(data_dir), *argv])
    return str(exited.value.code), time.monotonic() - started


COMMANDS = {
    "deadletters list": ("NATS", ["deadletters", "list"]),
    "deadletters replay": ("NATS", ["deadletters", "replay"]),
    "deadletters replay 7": ("NATS", ["deadletters", "replay", "7"]),
    "migrate": ("PostgreSQL", ["migrate"]),
    "token for a library's staff": ("PostgreSQL", ["token", "--role", "staff", "--library", "bieb"]),
    "up on given servers": ("NATS", ["up", "--port", "1"]),
    "republish": ("PostgreSQL", ["republish"]),
    "backup": ("PostgreSQL", ["backup", "{tmp}/backup", "--passphrase-file", "{tmp}/passphrase"]),
}


# One command on each server waits for a silent one with the product's own connect timeout, within the bound above.
AT_THE_DEFAULT_TIMEOUT = {"deadletters list", "migrate"}
SHORT_CONNECT_TIMEOUT_SECONDS = 0.5


@pytest.mark.parametrize("kind", ["refused", "silent"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_says_within_seconds_which_server_does_not_answer(
    command: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, argv = COMMANDS[command]
    if kind == "silent" and command not in AT_THE_DEFAULT_TIMEOUT:
        # A silent server is waited for until the connect timeout (twice for NATS's two tries): shortened here, the
        # same path gives the same message; the commands in AT_THE_DEFAULT_TIMEOUT keep the product's 3 s.
        monkeypatch.setattr(shared.servers, "CONNECT_TIMEOUT_SECONDS", SHORT_CONNECT_TIMEOUT_SECONDS)
    with absent_server(kind) as port:
        monkeypatch.setenv("NATS_URL", f"nats://partnernet:hush@127.0.0.1:{port}")
        monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres:hush@127.0.0.1:{port}/partnernet")
        monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))  # main() sets it; this restores it afterwards
        for variable in SECRETS.values():  # a backup takes the platform's keys before it looks for the database
            monkeypatch.setenv(variable, "the platform's own secret, as its services have it")
        (tmp_path / "passphrase").write_text("a passphrase kept elsewhere")
        message, took = run_cli([arg.format(tmp=tmp_path) for arg in argv], tmp_path / "data")
    assert took < ANSWERS_WITHIN_SECONDS, f"{command} took {took:.1f}s"
    assert f"{server} does not answer at" in message and f"127.0.0.1:{port}" in message, message
    assert "no answer in time" in message if kind == "silent" else "refused" in message
    assert "hush" not in message  # passwords stay off the screen
    assert not (tmp_path / "backup").exists() and not (tmp_path / "backup.partial").exists()
    # and where to look instead
    if argv[0] == "up":
        assert "unset them and `up` starts its own" in message
    else:  # the variable that named the address, not a runtime file there is none of
        variable = "NATS_URL" if server == "NATS" else "DATABASE_URL"
        assert f"the address is {variable}'s, from the environment" in message, message


def test_a_shortened_connect_timeout_is_the_one_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the silent cases above rely on: the timeout is read when connecting, so the product's 3 s is not waited."""
    monkeypatch.setattr(shared.servers, "CONNECT_TIMEOUT_SECONDS", 0.2)
    for check, url in (
        (shared.servers.check_database, "postgresql://postgres@127.0.0.1:{port}/partnernet"),
        (shared.servers.check_nats, "nats://127.0.0.1:{port}"),
    ):
        with absent_server("silent") as port:
            started = time.monotonic()
            with pytest.raises(shared.servers.ServerUnreachable, match="no answer in time"):
                asyncio.run(check(url.format(port=port)))
        assert time.monotonic() - started < 2.5, f"{check.__name__} waited the default timeout"


def test_the_hint_names_the_runtime_file_of_an_up_that_has_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with absent_server("refused") as port:
        (data_dir / "runtime.json").write_text(f'{{"NATS_URL": "nats://127.0.0.1:{port}"}}')
        monkeypatch.delenv("NATS_URL", raising=False)
        monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))
        message, _ = run_cli(["deadletters", "list"], data_dir)
    assert f"NATS does not answer at nats://127.0.0.1:{port}" in message
    assert f"wrote to {data_dir / 'runtime.json'}: is that `up` still running?" in message


@pytest.mark.parametrize(
    ("component", "needs"),
    [
        (["-m", "services.courses"], "PostgreSQL"),
        (["-m", "launcher", "service", "volunteers"], "PostgreSQL"),
        (["-m", "gateway"], "NATS"),
        (["-m", "launcher", "gateway"], "NATS"),
    ],
    ids=["python -m services.courses", "partnernet service", "python -m gateway", "partnernet gateway"],
)
@pytest.mark.timeout(300)
def test_a_component_exits_with_a_clear_line_instead_of_waiting_for_ever(
    component: list[str], needs: str, tmp_path: Path
) -> None:
    with absent_server("refused") as port:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_", "DATABASE_", "PARTNERNET_"))}
        env |= {
            "NATS_URL": f"nats://127.0.0.1:{port}",
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/partnernet",
            "PARTNERNET_DATA_DIR": str(tmp_path),
            "PARTNERNET_PORT": str(port),
        }
        # The bound is for a loaded machine's imports; the wait for the servers themselves is seconds.
        done = subprocess.run(
            [sys.executable, *component], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 1
    assert f"cannot start: {needs} does not answer at" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


@pytest.fixture
def fresh_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    with EmbeddedNats(tmp_path / "nats") as server:
        yield server


async def declare_every_stream(nats_url: str) -> None:
    broker = create_broker(nats_url, name="test", telemetry=setup_telemetry("test", otlp_endpoint=None))
    await broker.connect()
    try:
        await declare_streams(broker)
    finally:
        await broker.stop()


def test_deadletters_list_says_when_there_are_none(
    fresh_nats: EmbeddedNats, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NATS_URL", fresh_nats.url)
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))
    data_dir = str(tmp_path / "data")
    main(["--data-dir", data_dir, "deadletters", "list"])  # before any service declared the streams
    main(["--data-dir", data_dir, "deadletters", "replay"])
    asyncio.run(declare_every_stream(fresh_nats.url))
    main(["--data-dir", data_dir, "deadletters", "list"])  # the stream is there, and empty
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "no dead letters: every consumer handled what it received",
        "no dead letters to replay",
        "no dead letters: every consumer handled what it received",
    ]
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", data_dir, "deadletters", "replay", "41"])
    assert str(exited.value.code) == (
        "partnernet deadletters: there is no dead letter 41; `partnernet deadletters list` shows those there are"
    )


async def set_aside(nats_url: str, count: int) -> None:
    """Dead letters as a consumer sets them aside (shared/consumer.py), of an event on the partners' stream."""
    await declare_every_stream(nats_url)
    connection = await nats.connect(nats_url)
    try:
        headers = {
            ORIGINAL_SUBJECT: "events.partners.probe",
            ORIGINAL_STREAM: event_stream_name("partners"),
            CONSUMER: "probe",
        }
        for _ in range(count):
            await connection.jetstream().publish("deadletter.probe", b"{}", stream=DEAD_LETTER_STREAM, headers=headers)
    finally:
        await connection.close()


def test_deadletters_refuses_what_is_no_sequence_and_replays_a_sequence_named_twice_once(
    fresh_nats: EmbeddedNats, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NATS_URL", fresh_nats.url)
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))
    asyncio.run(set_aside(fresh_nats.url, 2))
    data_dir = str(tmp_path / "data")

    def sequences_there() -> list[int]:
        return [letter["sequence"] for letter in asyncio.run(list_dead_letters(fresh_nats.url))]

    for mistake in (["abc"], ["0"], ["--", "-1"], ["1", "x"]):  # usage errors, named by argparse
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(["--data-dir", data_dir, "deadletters", "replay", *mistake])
        assert exited.value.code == 2
        said = capsys.readouterr().err.splitlines()[-1]
        assert said.startswith("partnernet deadletters replay: error: argument sequence: '") and (
            "is not a dead letter's sequence (a whole number from 1" in said
        ), said
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", data_dir, "deadletters", "list", "17"])  # list takes no sequences
    assert exited.value.code == 2
    assert "unrecognized arguments: 17" in capsys.readouterr().err
    # A sequence JetStream cannot hold is a dead letter that is not there, as any other.
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", data_dir, "deadletters", "replay", "1", str(2**64)])
    assert str(exited.value.code) == (
        f"partnernet deadletters: there is no dead letter {2**64}; `partnernet deadletters list` shows those there are"
    )
    assert sequences_there() == [1, 2]  # nothing replayed by a refused command

    capsys.readouterr()
    main(["--data-dir", data_dir, "deadletters", "replay", "2", "2"])
    assert capsys.readouterr().out.splitlines() == ["replayed 1 dead letter: [2]"]
    assert sequences_there() == [1]


def test_republish_since_names_the_option_for_a_time_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))
    with absent_server("refused") as port:  # refused before any server is asked
        monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/partnernet")
        for since, wrong in (
            ("yesterday", "is not a time in ISO 8601"),
            ("5-12-2026", "is not a time in ISO 8601"),
            ("2026-12-05T09:00", "needs a time zone"),
        ):
            with pytest.raises(SystemExit) as exited:
                main(["--data-dir", str(tmp_path / "data"), "republish", "--since", since])
            assert exited.value.code == 2
            said = capsys.readouterr().err.splitlines()[-1]
            assert said == (
                f"partnernet republish: error: argument --since: '{since}' {wrong}, e.g. 2026-12-03T09:00:00+01:00"
            )


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        # The command finds the municipality from the library or the partner: those are what it needs.
        (["--role", "staff"], "no token: a staff token needs --library"),
        (["--role", "staff", "--municipality", "zuidstad"], "no token: a staff token needs --library"),
        (["--role", "partner"], "no token: a partner token needs --partner"),
        (["--role", "coordinator"], "no token: a coordinator token needs --municipality"),
        (["--role", "operator", "--library", "bieb"], "no token: an operator token carries no library"),
    ],
)
def test_token_says_which_option_is_missing_before_it_asks_the_database(
    scope: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARTNERNET_JWT_SECRET", "the platform's own secret, as its gateway has it")  # a platform
    with absent_server("refused") as port:
        monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/partnernet")
        said, _ = run_cli(["token", *scope], tmp_path / "data")
    assert said == message
    assert not (tmp_path / "data" / AUDIT_FILE).exists()


def test_two_operators_replaying_the_same_dead_letter_at_once_replay_it_once_and_both_say_so(
    fresh_nats: EmbeddedNats,
) -> None:
    """Both found it, both published it (the same message id: the second dropped as a duplicate), and the slower
    delete met a letter already gone: a traceback and exit 1 for an operator whose replay had happened."""
    asyncio.run(set_aside(fresh_nats.url, 1))

    async def at_once() -> list[list[int]]:
        return list(await asyncio.gather(*(replay_dead_letters(fresh_nats.url, [1]) for _ in range(2))))

    assert asyncio.run(at_once()) == [[1], [1]]
    assert asyncio.run(list_dead_letters(fresh_nats.url)) == []

    async def replays_published() -> int:
        connection = await nats.connect(fresh_nats.url)
        try:
            info = await connection.jetstream().stream_info(event_stream_name("partners"))
            return info.state.messages
        finally:
            await connection.close()

    assert asyncio.run(replays_published()) == 1
