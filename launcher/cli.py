"""The `partnernet` command: run the whole platform, one component, migrations, tokens, dead letters."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hashlib
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from launcher.platform import RUNTIME_FILE, Platform
from launcher.supervisor import Supervisor
from shared.db import migrate
from shared.messaging import SERVICES
from shared.nats_callout import issuer_for
from shared.servers import ServerUnreachable, check_database, connect_database, without_password
from shared.service import ServiceRuntime, run_service
from shared.settings import Settings
from shared.tenancy import SUPPORT_SUBJECT_PREFIX, Actor, Role
from shared.tokens import TokenIssuer

AUDIT_FILE = "audit.jsonl"  # every token `partnernet token` minted: by whom, for whom


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


def settings_for_data_dir(data_dir: Path) -> Settings:
    """Settings for commands run beside `up`: its runtime file fills in what the environment leaves out."""
    runtime_file = data_dir / RUNTIME_FILE
    env = dict(os.environ)
    env["PARTNERNET_DATA_DIR"] = str(data_dir)
    if runtime_file.exists():
        for key, value in json.loads(runtime_file.read_text()).items():
            env.setdefault(key, value)
    return Settings.from_env(env)


def issue_token(
    settings: Settings,
    role: Role,
    *,
    library: str | None,
    partner: str | None,
    municipality: str | None,
    subject: str | None = None,
) -> str:
    """A token as the gateway would accept it: for tenants that are registered and belong together.

    Whoever runs this holds the platform's secret: an operator. A token for someone else's role is support
    work, so it says so (the subject `support:<login>` unless one is given, which the services record in the
    history of what the token does) and every token minted here is written to `<data-dir>/audit.jsonl`.
    """
    try:
        operator = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without USER)
        operator = f"uid-{os.getuid()}"
    if role is not Role.OPERATOR:
        municipality = asyncio.run(_registered_municipality(settings, municipality, library, partner))
    actor = Actor(
        subject=subject or (f"operator:{operator}" if role is Role.OPERATOR else f"{SUPPORT_SUBJECT_PREFIX}{operator}"),
        role=role,
        municipality=municipality,
        library=library,
        partner=partner,
    )
    try:
        token = TokenIssuer(settings.jwt_secret).issue(actor)
    except ValueError as exc:
        raise SystemExit(f"no token: {exc}") from exc
    record = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "minted_by": operator,
        "role": role.value,
        "subject": actor.subject,
        "municipality": municipality,
        "library": library,
        "partner": partner,
        "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
    }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / AUDIT_FILE, "a") as audit:
        audit.write(json.dumps(record) + "\n")
    return token


async def _registered_municipality(
    settings: Settings, municipality: str | None, library: str | None, partner: str | None
) -> str | None:
    """The municipality of the library or partner, which must be registered and the one named, if any."""
    lookups = {
        f"library {library!r}": ("SELECT municipality FROM partners.libraries WHERE slug = $1", library),
        f"partner {partner!r}": ("SELECT municipality FROM partners.partners WHERE id::text = $1", partner),
        f"municipality {municipality!r}": ("SELECT slug FROM partners.municipalities WHERE slug = $1", municipality),
    }
    connection = await connect_database(settings.database_url)  # bounded: a database that is away is said so
    try:
        for what, (query, value) in lookups.items():
            if value is None:
                continue
            found = await connection.fetchval(query, value)
            if found is None:
                raise SystemExit(f"no token: {what} is not registered")
            if municipality is not None and found != municipality:
                raise SystemExit(f"no token: {what} is not in municipality {municipality!r}")
            municipality = str(found)
    finally:
        await connection.close()
    return municipality


def up(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir).resolve()
    with ExitStack() as stack:
        platform = stack.enter_context(Platform(data_dir=data_dir, port=args.port))
        print(f"partnernet is up in {platform.started_in:.1f}s")
        print(f"  API:      {platform.base_url}/api/v1/")
        print(f"  API docs: {platform.base_url}/schema")
        print(f"  console:  {platform.base_url}/console/")
        print(f"  health:   {platform.base_url}/health")
        # The platform user's password stays in the data directory (runtime.json), not on the screen.
        print(f"  NATS:     {without_password(platform.env['NATS_URL'])}  (credentials in {data_dir / RUNTIME_FILE})")
        print(f"  data:     {data_dir}")
        if args.demo:
            from launcher.demo import seed_demo

            for line in seed_demo(platform.base_url, platform.settings):
                print(line)
        stop = {"now": False}

        def request_stop(*_: object) -> None:
            stop["now"] = True

        # Before the line that says Ctrl-C works: a Ctrl-C right after it must stop the platform, not kill `up`.
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        print("Ctrl-C stops everything.", flush=True)
        # From here on a component that exits is started again (launcher/supervisor.py), and said so.
        supervisor = Supervisor(platform, report=supervision_log(data_dir))
        while not stop["now"]:
            supervisor.check()
            time.sleep(0.5)
        print("stopping …", flush=True)


def supervision_log(data_dir: Path) -> Callable[[str], None]:
    """What the supervisor reports goes to the terminal and, with the date, to <data-dir>/logs/supervisor.log."""
    log_path = data_dir / "logs" / "supervisor.log"

    def report(line: str) -> None:
        now = datetime.now().astimezone()
        print(f"{now:%H:%M:%S} {line}", file=sys.stderr, flush=True)
        with open(log_path, "a") as log:
            log.write(f"{now.isoformat(timespec='seconds')} {line}\n")

    return report


def dead_letters(args: argparse.Namespace, settings: Settings) -> None:
    from shared.deadletters import list_dead_letters, replay_dead_letters

    if args.action == "list":
        letters = asyncio.run(list_dead_letters(settings.nats_url))
        for letter in letters:
            print(json.dumps(letter))
        if not letters:
            print("no dead letters: every consumer handled what it received")
        return
    sequences = [int(s) for s in args.sequences] or None
    replayed = asyncio.run(replay_dead_letters(settings.nats_url, sequences))
    if replayed:
        print(f"replayed {len(replayed)} dead letters: {replayed}")
    else:
        print("no dead letters to replay")


def where_servers_come_from(command: str, data_dir: Path) -> str:
    """A hint after 'X does not answer': which `up` (or which variables) the address came from."""
    if command == "up":
        return "NATS_URL / DATABASE_URL name the servers `up` should use; unset them and `up` starts its own"
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
        return Path(args.passphrase_file).read_text().strip()
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
    settings = settings_for_data_dir(data_dir)
    target = Path(args.directory).resolve()
    manifest = backup(settings.database_url, target, values, read_passphrase(args, twice=True), pg_bin=args.pg_bin)
    rows = sum(manifest["tables"].values())
    print(f"backed up {', '.join(manifest['schemas'])} ({rows} rows, one snapshot) and the secrets to {target}")
    print("  the secrets are sealed with the passphrase: keep it apart from the backup (see deploy/README.md)")


def restore_command(args: argparse.Namespace, data_dir: Path) -> None:
    from launcher.backup import BackupError, install_secrets, read_backup, restore_database
    from launcher.embedded import EmbeddedPostgres

    source = Path(args.directory).resolve()
    manifest, values = read_backup(source, read_passphrase(args, twice=False))
    environ = dict(os.environ)
    install_secrets(values, data_dir, environ)  # first: a data directory of another platform stops us here
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
        marked = asyncio.run(restore_database(database_url, source, manifest, pg_bin=args.pg_bin))
    print(f"restored {', '.join(manifest['schemas'])} as of {manifest['created_at']} and the secrets")
    print("  to publish again: " + ", ".join(f"{count} {what}" for what, count in marked.items()))
    print("  start the platform on fresh NATS (`partnernet up` with this --data-dir, or the services): the relays")
    print("  publish these again and every consumer skips what it had handled before the backup")


def republish_command(args: argparse.Namespace, settings: Settings) -> None:
    from launcher.backup import republish

    since = datetime.fromisoformat(args.since) if args.since else None
    if since is not None and since.tzinfo is None:
        raise SystemExit("partnernet republish: --since needs a time zone, e.g. 2026-12-03T09:00:00+01:00")
    marked = asyncio.run(republish(settings.database_url, since))
    print("marked to publish again: " + ", ".join(f"{count} {what}" for what, count in marked.items()))


def nats_auth(password: str | None = None) -> str:
    """`.env` lines for a NATS server with the platform's user and auth callout (deploy/): the user's password
    (new unless given) and the callout's issuer, which is derived from it (shared/nats_callout.py)."""
    password = password or secrets.token_hex(24)
    return f"NATS_PLATFORM_PASSWORD={password}\nNATS_CALLOUT_ISSUER={issuer_for(password).public_key}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="partnernet", description=__doc__)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("PARTNERNET_DATA_DIR", ".partnernet"),
        help="where embedded servers keep their data and the secrets live (default ./.partnernet)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up_parser = commands.add_parser("up", help="start NATS, PostgreSQL, every service and the gateway")
    up_parser.add_argument("--port", type=int, default=int(os.environ.get("PARTNERNET_PORT", "8000")))
    up_parser.add_argument("--demo", action="store_true", help="seed a demo municipality and print tokens")

    service_parser = commands.add_parser("service", help="run one service against existing NATS and PostgreSQL")
    service_parser.add_argument("name", choices=SERVICES)
    gateway_parser = commands.add_parser("gateway", help="run the gateway against existing NATS")
    gateway_parser.add_argument("--port", type=int, default=None)
    commands.add_parser("migrate", help="apply every service's migrations")

    token_parser = commands.add_parser("token", help="print a signed token of the embedded issuer")
    token_parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    token_parser.add_argument("--library")
    token_parser.add_argument("--partner")
    token_parser.add_argument("--municipality")
    token_parser.add_argument("--subject")

    auth_parser = commands.add_parser(
        "nats-auth", help="print a NATS password for the platform's user and its auth callout issuer (deploy/)"
    )
    auth_parser.add_argument("--password", help="the platform user's password (default: a new random one)")

    dl_parser = commands.add_parser("deadletters", help="list or replay dead-lettered events")
    dl_parser.add_argument("action", choices=["list", "replay"])
    dl_parser.add_argument("sequences", nargs="*", help="dead-letter sequences to replay (default: all)")

    backup_parser = commands.add_parser(
        "backup", help="back up every service's schema (one snapshot) and the secrets, sealed with a passphrase"
    )
    backup_parser.add_argument("directory", help="a new directory for the backup")
    restore_parser = commands.add_parser(
        "restore", help="restore a backup onto fresh servers; events and feeds are published again on start"
    )
    restore_parser.add_argument("directory", help="a directory `partnernet backup` wrote")
    for backup_or_restore in (backup_parser, restore_parser):
        backup_or_restore.add_argument(
            "--passphrase-file", help="file holding the passphrase (else PARTNERNET_BACKUP_PASSPHRASE, or asked)"
        )
        backup_or_restore.add_argument(
            "--pg-bin", type=Path, help="directory of pg_dump/pg_restore (default: those of the embedded PostgreSQL)"
        )
    republish_parser = commands.add_parser(
        "republish", help="publish events and feed entries again (after NATS lost messages); consumers de-duplicate"
    )
    republish_parser.add_argument("--since", help="only those written since this time (ISO 8601 with zone)")

    args = parser.parse_args(argv)
    # --data-dir defaults to PARTNERNET_DATA_DIR, so an explicit option is what the caller means.
    data_dir = Path(args.data_dir).resolve()
    os.environ["PARTNERNET_DATA_DIR"] = str(data_dir)
    from launcher.backup import BackupError

    try:
        run(args, data_dir)
    except BackupError as exc:
        raise SystemExit(f"partnernet {args.command}: {exc}") from None
    except ServerUnreachable as exc:
        raise SystemExit(
            f"partnernet {args.command}: {exc}\n  {where_servers_come_from(args.command, data_dir)}"
        ) from None


def run(args: argparse.Namespace, data_dir: Path) -> None:
    from shared.deadletters import NoSuchDeadLetter

    if args.command == "up":
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
    settings = settings_for_data_dir(data_dir)
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
    elif args.command == "deadletters":
        try:
            dead_letters(args, settings)
        except NoSuchDeadLetter as exc:
            raise SystemExit(f"partnernet deadletters: {exc}") from None


if __name__ == "__main__":
    main()
