"""What the benchmark measures against: a platform of its own, started the way `partnernet up` does (embedded NATS
and PostgreSQL, each service and the gateway in a process of its own), or one that runs already (`--url`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.driving import Target
from benchmarks.processes import component, find_processes
from launcher.embedded import free_port


@contextlib.contextmanager
def platform_target(args: argparse.Namespace) -> Iterator[Target]:
    if args.url:
        yield given_platform(args)
        return
    from launcher.platform import Platform
    from shared.tenancy import Actor, Role
    from shared.tokens import TokenIssuer

    with tempfile.TemporaryDirectory(prefix="partnernet-bench-") as tmp:
        started = time.monotonic()
        print("starting the platform (embedded NATS and PostgreSQL, four services, the gateway) …", flush=True)
        # The gateway's per-caller rate limit would cap the benchmark at a few requests a second: lift it.
        environ = {**os.environ, "PARTNERNET_RATE_LIMIT": str(10**9)}
        # Six processes importing and migrating on a 2-core machine that others load too can take longer than `up`'s
        # minute: the benchmark waits longer rather than measure nothing.
        with Platform(data_dir=Path(tmp), port=free_port(), environ=environ, health_deadline=240) as platform:
            print(f"  healthy after {time.monotonic() - started:.1f}s at {platform.base_url}", flush=True)
            settings = platform.settings
            processes = find_processes(Path(tmp))
            for name in {component(name) for name in platform.processes}:
                processes[name] = [p.pid for n, p in platform.processes.items() if component(n) == name]
            yield Target(
                base_url=platform.base_url,
                operator_token=TokenIssuer(settings.jwt_secret).issue(Actor(subject="bench", role=Role.OPERATOR)),
                nats_url=settings.nats_url,
                database_dsn=plain_dsn(settings.database_url),
                jwt_secret=settings.jwt_secret,
                processes=processes,
            )


def given_platform(args: argparse.Namespace) -> Target:
    if not args.token:
        raise SystemExit("--url needs --token (an operator token: `partnernet token --role operator`)")
    nats_url, database_url, secret = args.nats_url, args.database_url, None
    if args.data_dir:
        from launcher.cli import settings_for_data_dir

        settings = settings_for_data_dir(args.data_dir.resolve())
        nats_url = nats_url or settings.nats_url
        database_url = database_url or settings.database_url
        secret = settings.jwt_secret
    return Target(
        base_url=args.url.rstrip("/"),
        operator_token=args.token,
        nats_url=nats_url,
        database_dsn=plain_dsn(database_url) if database_url else None,
        jwt_secret=secret,
        processes=find_processes(args.data_dir.resolve() if args.data_dir else None),
    )


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
