"""The command line a newcomer meets: every option explained, the program's own options before or after the command."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from launcher.cli import build_parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_option_and_argument_of_every_command_has_a_help_text() -> None:
    parser = build_parser()
    unexplained = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, command in {"partnernet": parser, **subcommands(parser)}.items()
        for action in command._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction) and not action.help
    ]
    assert unexplained == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--data-dir", "/srv/pn", "up", "--port", "9000"],
        ["up", "--data-dir", "/srv/pn", "--port", "9000"],
        ["up", "--port", "9000", "--data-dir", "/srv/pn"],
    ],
)
def test_the_data_directory_may_come_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.command, Path(args.data_dir), args.port) == ("up", Path("/srv/pn"), 9000)


def test_without_the_option_the_default_data_directory_holds_whatever_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTNERNET_DATA_DIR", "/var/lib/partnernet")
    assert build_parser().parse_args(["migrate"]).data_dir == "/var/lib/partnernet"
    assert build_parser().parse_args(["deadletters", "list"]).data_dir == "/var/lib/partnernet"


def test_up_help_names_the_data_directory_and_the_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--help"])
    shown = capsys.readouterr().out
    assert "--data-dir" in shown and "--port" in shown and "the gateway's HTTP port" in shown
