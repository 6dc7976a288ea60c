"""The `partnernet` command: run the whole platform, one component, migrations, tokens, dead letters."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import secrets
import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from launcher.operator_tokens import issue_token
from launcher.platform import RUNTIME_FILE
from shared.db import migrate
from shared.messaging import SERVICES
from shared.nats_callout import issuer_for
from shared.servers import ServerUnreachable, check_database, connect_database
from shared.service import ServiceRuntime, run_service
from shared.settings import Settings, SettingsError
from shared.tenancy import Role


def service_builders() -> dict[str, Callable[[Settings], ServiceRuntime]]:
    """Each service's one wiring point. Imported when a command runs one, so `token` and `nats-auth` stay quick."""
    from services.courses.app import build as build_courses
    from services.partners.app import build as build_partners
    from services.referrals.app import build as build_referrals
    from services.volunteers.app import build as build_volunteers

    return {
        "partners": build_partners,
        "referrals": build_referrals,
        "volunteers": build_volunteers,
        "courses": build_courses,
    }


async def migrate_all(settings: Settings) -> dict[str, list[str]]:
    await check_database(settings.database_url)  # asyncpg alone would wait a minute for a server that is away
    applied: dict[str, list[str]] = {}
    for name, build in service_builders().items():
        runtime = build(settings)
        applied[name] = await migrate(runtime.engine, name, runtime.migrations)
        await runtime.engine.dispose()
    return applied


def settings_for_data_dir(data_dir: Path, command: str | None = None) -> Settings:
    """Settings for commands run beside `up`: its runtime file fills in what the environment leaves out. `command`:
    an operator's command, refused where no platform has run (`no_platform_here`)."""
    runtime_file = data_dir / RUNTIME_FILE
    if command in BESIDE_A_PLATFORM:
        no_platform_here(command, data_dir)
    env = dict(os.environ)
    env["PARTNERNET_DATA_DIR"] = str(data_dir)
    if runtime_file.exists():
        for key, value in json.loads(runtime_file.read_text()).items():
            env.setdefault(key, value)
    return Settings.from_env(env)


def dead_letters(args: argparse.Namespace, settings: Settings) -> None:
    from shared.deadletters import list_dead_letters, replay_dead_letters

    if args.action == "list":
        letters = asyncio.run(list_dead_letters(settings.nats_url))
        for letter in letters:
            print(json.dumps(letter))
        if not letters:
            print("no dead letters: every consumer handled what it received")
        return
    replayed = asyncio.run(replay_dead_letters(settings.nats_url, args.sequences or None))
    if replayed:
        print(f"replayed {len(replayed)} dead letter{'' if len(replayed) == 1 else 's'}: {replayed}")
    else:
        print("no dead letters to replay")


def dead_letter_sequence(value: str) -> int:
    """A sequence as `deadletters list` shows it, checked here so that a mistyped one is a usage error."""
    try:
        sequence = int(value)
    except ValueError:
        sequence = 0
    if sequence < 1:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a dead letter's sequence (a whole number from 1, as `deadletters list` shows them)"
        )
    return sequence


# The operator's commands on a running platform, and what each needs of it where no `up` has run in the data
# directory: the token's signing secret, or the servers' addresses. (`service`, `gateway`: a container's commands,
# given their settings in variables, make their secrets where there are none.)
BESIDE_A_PLATFORM = {
    "token": ("PARTNERNET_JWT_SECRET",),
    "migrate": ("DATABASE_URL",),
    "republish": ("DATABASE_URL", "NATS_URL"),
    "rebuild-figures": ("DATABASE_URL",),
    "deadletters": ("NATS_URL",),
}


def no_platform_here(command: str, data_dir: Path) -> None:
    """Refuses a command where no `up` has run in the data directory and the environment does not name what it
    needs instead: Settings would make new secrets there (a token signed with one no gateway knows, accepted by
    none) and fall back to default addresses. A mistyped or forgotten --data-dir is what this usually is."""
    if (data_dir / RUNTIME_FILE).exists() or (data_dir / "secrets" / "jwt-secret").exists():
        return
    if all(os.environ.get(variable) for variable in BESIDE_A_PLATFORM[command]):
        return
    raise SystemExit(
        f"partnernet {command}: no `partnernet up` has run with --data-dir {data_dir}: pass the --data-dir of the "
        f"one that runs (default ./.partnernet, or PARTNERNET_DATA_DIR), or set "
        f"{' and '.join(BESIDE_A_PLATFORM[command])}"
    )


def where_servers_come_from(command: str, data_dir: Path, unreachable: ServerUnreachable) -> str:
    """A hint after 'X does not answer': which `up` (or which variables) the address came from."""
    if command == "up":
        return "NATS_URL / DATABASE_URL name the servers `up` should use; unset them and `up` starts its own"
    variable = "NATS_URL" if str(unreachable).startswith("NATS") else "DATABASE_URL"
    if os.environ.get(variable):
        return (
            f"the address is {variable}'s, from the environment (it wins over `up`'s {RUNTIME_FILE}): is that "
            "server running?"
        )
    if (data_dir / RUNTIME_FILE).exists():
        return (
            f"the address is the one `partnernet up` wrote to {data_dir / RUNTIME_FILE}: is that `up` still "
            "running? (NATS_URL / DATABASE_URL, when set, win over it)"
        )
    return (
        f"no `partnernet up` has run with --data-dir {data_dir}: start one, pass the --data-dir of the one that "
        "runs, or set NATS_URL / DATABASE_URL to the servers"
    )


def read_passphrase(args: argparse.Namespace, *, twice: bool) -> str:
    """The backup's passphrase: a file, the variable, or typed at a terminal; never an argument (ps shows those)."""
    from launcher.backup import PASSPHRASE_VARIABLE, BackupError

    if args.passphrase_file:
        try:
            return Path(args.passphrase_file).read_text().strip()
        except OSError as exc:
            raise BackupError(f"cannot read the passphrase file {args.passphrase_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise BackupError(f"the passphrase file {args.passphrase_file} is not text") from None
    if os.environ.get(PASSPHRASE_VARIABLE):
        return os.environ[PASSPHRASE_VARIABLE]
    if not sys.stdin.isatty():
        raise BackupError(f"give the backup's passphrase: --passphrase-file FILE or {PASSPHRASE_VARIABLE}")

    passphrase = getpass.getpass("backup passphrase: ")
    if twice and getpass.getpass("the same again: ") != passphrase:
        raise BackupError("the two passphrases differ")
    return passphrase


def backup_command(args: argparse.Namespace, data_dir: Path) -> None:
    from launcher.backup import backup, current_secrets

    values = current_secrets(data_dir, dict(os.environ))  # before Settings, which would make keys where none are
    settings = settings_for_data_dir(data_dir, args.command)
    target = Path(args.directory).resolve()
    manifest = backup(settings.database_url, target, values, read_passphrase(args, twice=True), pg_bin=args.pg_bin)
    rows = sum(manifest["tables"].values())
    print(f"backed up {', '.join(manifest['schemas'])} ({rows} rows, one snapshot) and the secrets to {target}")
    print("  the secrets are sealed with the passphrase: keep it apart from the backup (see deploy/README.md)")


def restore_command(args: argparse.Namespace, data_dir: Path) -> None:
    from launcher.backup import install_secrets, read_backup

    source = Path(args.directory).resolve()
    manifest, values = read_backup(source, read_passphrase(args, twice=False))
    environ = dict(os.environ)
    installed = install_secrets(values, data_dir, environ)  # first: a data directory of another platform stops us here
    try:
        marked = restore_into(args, data_dir, environ, source, manifest)
    except BaseException:
        for path in installed:  # a restore refused (a used database, counts that differ) leaves no keys behind
            path.unlink(missing_ok=True)
        raise
    print(f"restored {', '.join(manifest['schemas'])} as of {manifest['created_at']} and the secrets")
    print("  to publish again: " + ", ".join(f"{count} {what}" for what, count in marked.items()))
    print("  start the platform on fresh NATS (`partnernet up` with this --data-dir, or the services): the relays")
    print("  publish these again and every consumer skips what it had handled before the backup")


def restore_into(
    args: argparse.Namespace, data_dir: Path, environ: dict[str, str], source: Path, manifest: dict[str, Any]
) -> dict[str, int]:
    """The backup's database into DATABASE_URL's, or into the fresh embedded PostgreSQL of the data directory."""
    from launcher.backup import BackupError, restore_database
    from launcher.embedded import EmbeddedPostgres

    with ExitStack() as stack:
        database_url = environ.get("DATABASE_URL")
        if not database_url:
            # The fresh embedded PostgreSQL that `up --data-dir` will use, started only for the restore.
            try:
                postgres = stack.enter_context(EmbeddedPostgres(data_dir / "postgres"))
            except RuntimeError as exc:
                raise BackupError(
                    f"the embedded PostgreSQL of {data_dir} did not start (is a `partnernet up` running there? a "
                    f"restore goes to fresh servers): {exc}"
                ) from None
            database_url = postgres.ensure_database("partnernet")
        return asyncio.run(restore_database(database_url, source, manifest, pg_bin=args.pg_bin))


def republish_command(args: argparse.Namespace, settings: Settings) -> None:
    from launcher.backup import republish

    marked = asyncio.run(republish(settings.database_url, args.since))
    print("marked to publish again: " + ", ".join(f"{count} {what}" for what, count in marked.items()))


def moment_with_zone(value: str) -> datetime:
    """--since, read here so that a time it cannot use is a usage error that names the option. An instant, so with
    its zone: 09:00 alone is another moment on a server in UTC than in the operator's Amsterdam."""
    example = "e.g. 2026-12-03T09:00:00+01:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time in ISO 8601, {example}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a time zone, {example}")
    return moment


def rebuild_figures_command(settings: Settings) -> None:
    """The statistics' and the overview's read models computed again from the referrals (migration 011), e.g.
    after a restore or a change by hand; writers meanwhile wait for it and then add their changes to it."""

    async def rebuild() -> int:
        connection = await connect_database(settings.database_url)
        try:
            await connection.execute("SELECT referrals.rebuild_referral_figures()")
            return int(await connection.fetchval("SELECT count(*) FROM referrals.referral_month_counts"))
        finally:
            await connection.close()

    print(f"rebuilt the referral figures: {asyncio.run(rebuild())} counters")


def nats_auth(password: str | None = None) -> str:
    """`.env` lines for a NATS server with the platform's user and auth callout (deploy/): the user's password
    (new unless given) and the callout's issuer, which is derived from it (shared/nats_callout.py)."""
    password = password or secrets.token_hex(24)
    return f"NATS_PLATFORM_PASSWORD={password}\nNATS_CALLOUT_ISSUER={issuer_for(password).public_key}"


def build_parser() -> argparse.ArgumentParser:
    """Every command and option, each with its help. Options of the whole program (--data-dir) are accepted
    before or after the command: people type `partnernet up --data-dir X` as often as the other order."""
    default_data_dir = os.environ.get("PARTNERNET_DATA_DIR", ".partnernet")
    data_dir_help = (
        "where the embedded servers keep their data, logs and the platform's secrets "
        f"(default: $PARTNERNET_DATA_DIR or ./.partnernet; now {default_data_dir})"
    )
    parser = argparse.ArgumentParser(prog="partnernet", description=__doc__)
    parser.add_argument("--data-dir", default=default_data_dir, help=data_dir_help)
    # The same option on every command, defaulting to "not given" so it never overrides one given before it.
    everywhere = argparse.ArgumentParser(add_help=False)
    everywhere.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_dir_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[everywhere])

    up_parser = command("up", "start NATS, PostgreSQL, every service and the gateway, and keep them running")
    up_parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PARTNERNET_PORT", "8000")),
        help="the gateway's HTTP port (default: $PARTNERNET_PORT or 8000)",
    )
    up_parser.add_argument(
        "--demo", action="store_true", help="seed a demo municipality with libraries and partners, and print tokens"
    )
    up_parser.add_argument(
        "--cluster",
        action="store_true",
        help="the production shape of deploy/ on this machine: three NATS nodes in one JetStream cluster (streams "
        "and the idempotency bucket with 3 replicas, sync_interval always), two processes of each service and two "
        "gateways, on --port and the port after it",
    )

    service_parser = command("service", "run one service against existing NATS and PostgreSQL")
    service_parser.add_argument("name", choices=SERVICES, help="which service")
    gateway_parser = command("gateway", "run the gateway against existing NATS")
    gateway_parser.add_argument(
        "--port", type=int, default=None, help="the HTTP port (default: $PARTNERNET_PORT or 8000)"
    )
    command("migrate", "apply every service's migrations")

    token_parser = command("token", "print a signed token of the embedded issuer (written to the audit file)")
    token_parser.add_argument("--role", required=True, choices=[r.value for r in Role], help="the token's role")
    token_parser.add_argument("--library", help="the library's slug (staff)")
    token_parser.add_argument("--partner", help="the partner's id (partner)")
    token_parser.add_argument("--municipality", help="the municipality's slug (found from the library or partner)")
    token_parser.add_argument("--subject", help="who the token names (default: support:<your login>)")

    auth_parser = command(
        "nats-auth", "print a NATS password for the platform's user and its auth callout issuer (deploy/)"
    )
    auth_parser.add_argument("--password", help="the platform user's password (default: a new random one)")

    dl_parser = command("deadletters", "list or replay dead-lettered events")
    # An action of its own for each, so that `list` refuses the sequences only `replay` takes.
    dl_actions = dl_parser.add_subparsers(dest="action", required=True, metavar="action")
    list_help = "list the dead letters: which consumer set each aside, and why"
    dl_actions.add_parser("list", help=list_help, description=list_help, parents=[everywhere])
    replay_help = "hand dead letters back to the consumer that set each aside"
    replay_parser = dl_actions.add_parser("replay", help=replay_help, description=replay_help, parents=[everywhere])
    replay_parser.add_argument(
        "sequences",
        nargs="*",
        type=dead_letter_sequence,
        metavar="sequence",
        help="dead-letter sequences to replay (default: all)",
    )

    backup_parser = command(
        "backup", "back up every service's schema (one snapshot) and the secrets, sealed with a passphrase"
    )
    backup_parser.add_argument("directory", help="a new directory for the backup")
    restore_parser = command(
        "restore", "restore a backup onto fresh servers; events and feeds are published again on start"
    )
    restore_parser.add_argument("directory", help="a directory `partnernet backup` wrote")
    for backup_or_restore in (backup_parser, restore_parser):
        backup_or_restore.add_argument(
            "--passphrase-file", help="file holding the passphrase (else PARTNERNET_BACKUP_PASSPHRASE, or asked)"
        )
        backup_or_restore.add_argument(
            "--pg-bin", type=Path, help="directory of pg_dump/pg_restore (default: those of the embedded PostgreSQL)"
        )
    republish_parser = command(
        "republish", "publish events and feed entries again (after NATS lost messages); consumers de-duplicate"
    )
    republish_parser.add_argument(
        "--since", type=moment_with_zone, help="only those written since this time (ISO 8601 with zone)"
    )
    command(
        "rebuild-figures",
        "compute the statistics' and the overview's read models again from the referrals (they are kept up to date "
        "as referrals change; this is for after a restore or a repair by hand)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    # --data-dir defaults to PARTNERNET_DATA_DIR, so an explicit option is what the caller means.
    data_dir = Path(args.data_dir).resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise SystemExit(f"partnernet {args.command}: --data-dir {data_dir} is a file, not a directory")
    os.environ["PARTNERNET_DATA_DIR"] = str(data_dir)
    from launcher.backup import BackupError

    try:
        run(args, data_dir)
    except (BackupError, SettingsError) as exc:
        raise SystemExit(f"partnernet {args.command}: {exc}") from None
    except ServerUnreachable as exc:
        raise SystemExit(
            f"partnernet {args.command}: {exc}\n  {where_servers_come_from(args.command, data_dir, exc)}"
        ) from None


def run(args: argparse.Namespace, data_dir: Path) -> None:
    from shared.deadletters import NoSuchDeadLetter

    if args.command == "up":
        from launcher.up import up

        up(args)
        return
    if args.command == "nats-auth":
        print(nats_auth(args.password))
        return
    # Before Settings, which makes secrets where there are none: a restore brings the backup's, and a backup
    # must take the platform's own, never new ones.
    if args.command == "restore":
        restore_command(args, data_dir)
        return
    if args.command == "backup":
        backup_command(args, data_dir)
        return
    settings = settings_for_data_dir(data_dir, args.command)
    if args.command == "service":
        run_service(args.name, service_builders()[args.name], settings)
    elif args.command == "gateway":
        from gateway.server import serve

        serve(settings, args.port)
    elif args.command == "migrate":
        for name, applied in asyncio.run(migrate_all(settings)).items():
            print(f"{name}: {', '.join(applied) if applied else 'up to date'}")
    elif args.command == "token":
        print(
            issue_token(
                settings,
                Role(args.role),
                library=args.library,
                partner=args.partner,
                municipality=args.municipality,
                subject=args.subject,
            )
        )
    elif args.command == "republish":
        republish_command(args, settings)
    elif args.command == "rebuild-figures":
        rebuild_figures_command(settings)
    elif args.command == "deadletters":
        try:
            dead_letters(args, settings)
        except NoSuchDeadLetter as exc:
            raise SystemExit(f"partnernet deadletters: {exc}") from None


if __name__ == "__main__":
    main()
