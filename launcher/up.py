"""`partnernet up`: the whole platform in the foreground, said step by step, supervised until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gateway.console.demo import DEMO_PEOPLE_FILE
from launcher.platform import HEALTH_DEADLINE_SECONDS, RUNTIME_FILE, Platform, StartRefused
from launcher.supervisor import Supervisor
from shared.servers import without_password
from shared.settings import Settings


def up(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir).resolve()
    started = time.monotonic()
    print(f"partnernet: starting in {data_dir} …", flush=True)
    stop = StopRequest()
    stop.install()  # from the first step: a Ctrl-C or SIGTERM while starting stops what had started
    environ = dict(os.environ)
    if args.demo:  # the console offers the demo's people to sign in as (gateway/console/demo.py)
        environ["PARTNERNET_DEMO_PEOPLE"] = str(data_dir / DEMO_PEOPLE_FILE)
    platform = Platform(
        data_dir=data_dir,
        port=args.port,
        environ=environ,
        progress=step_line(started),
        cluster=args.cluster,
        health_deadline=2 * HEALTH_DEADLINE_SECONDS if args.cluster else HEALTH_DEADLINE_SECONDS,
        stop_asked=lambda: stop.asked,
    )
    # The settings every process will read, before anything starts: a value that cannot be used is said now, by name.
    Settings.from_env({**environ, "PARTNERNET_DATA_DIR": str(data_dir)})
    stopping = time.monotonic()
    try:
        with platform:
            serve(platform, data_dir, stop, demo=args.demo)
            print("stopping the gateway, the services, NATS and PostgreSQL …", flush=True)
            stopping = time.monotonic()
    except KeyboardInterrupt:  # Ctrl-C while starting: leaving the block has stopped what had started
        stopping = stop.asked_at or stopping
        print("interrupted while starting", flush=True)
    except StartRefused as exc:  # leaving the block has stopped what had started
        print(f"partnernet up: could not start: {exc}", flush=True)
        print(f"partnernet stopped; its data stays in {data_dir}", flush=True)
        raise SystemExit(1) from None
    # Only after the block has stopped every process is it true that nothing runs.
    print(f"partnernet stopped ({time.monotonic() - stopping:.1f}s); its data stays in {data_dir}", flush=True)


class StopRequest:
    """Ctrl-C (SIGINT) and SIGTERM for the whole of `up`: the handler only notes the request; the start looks at it
    after each step and while it waits for health (Platform `stop_asked`), the supervision loop on each turn.

    Not Python's default KeyboardInterrupt, raised wherever the main thread is when the signal comes: where that is a
    finaliser (`__del__`) or code that catches BaseException, the exception is dropped, and a full run once saw a
    Ctrl-C right after "PostgreSQL: started" lost, the platform coming up and running on. Nor SIGTERM's default, which
    ended `up` while starting and left NATS and PostgreSQL running. A request while stopping changes nothing: the stop
    goes on to its end (raising there would leave processes running)."""

    def __init__(self) -> None:
        self.asked = False
        self.asked_at: float | None = None  # time.monotonic() of the first request: how long the stop took

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._ask)
        signal.signal(signal.SIGTERM, self._ask)

    def _ask(self, *_: object) -> None:
        if not self.asked:
            self.asked_at = time.monotonic()
        self.asked = True


def serve(platform: Platform, data_dir: Path, stop: StopRequest, *, demo: bool) -> None:
    """Say where everything is, seed the demo if asked, and supervise until Ctrl-C or SIGTERM."""
    print(f"partnernet is up in {platform.started_in:.1f}s")
    for line in addresses(platform, data_dir):
        print(line)
    if demo:
        from launcher.demo import seed_demo

        for line in seed_demo(platform.base_url, platform.settings):
            print(line)
    print("Ctrl-C stops everything.", flush=True)
    # From here on a component that exits is started again (launcher/supervisor.py), and said so.
    supervisor = Supervisor(platform, report=supervision_log(data_dir))
    while not stop.asked:
        supervisor.check()
        time.sleep(0.5)


def addresses(platform: Platform, data_dir: Path) -> list[str]:
    base = platform.base_url
    others = [f"  gateway:  {url}  (another gateway: the same API and console)" for url in platform.gateway_urls[1:]]
    return [
        *others,
        f"  console:  {base}/console/",
        f"  API:      {base}/api/v1/  (what it has: resources, documents)",
        f"  API docs: {base}/schema/swagger  (OpenAPI: {base}/schema/openapi.json)",
        f"  events:   {base}/asyncapi  (AsyncAPI: {base}/asyncapi.json)",
        f"  health:   {base}/health",
        f"  courses:  {base}/m/<municipality>/courses  (residents' public calendar; iCalendar: …/courses.ics)",
        f"  open data: {base}/m/<municipality>/hsds/  (HSDS API; dataset: …/hsds/datapackage.zip)",
        mail_line(platform, base),
        # The platform user's password stays in the data directory (runtime.json), not on the screen.
        f"  NATS:     {without_password(platform.env['NATS_URL'])}  (credentials in {data_dir / RUNTIME_FILE})",
        *cluster_lines(platform),
        f"  data:     {data_dir}",
    ]


def cluster_lines(platform: Platform) -> list[str]:
    if platform.nats_cluster is None:
        return []
    monitors = [f"http://{node.host}:{node.node.monitor_port}" for node in platform.nats_cluster.nodes if node.node]
    return [
        f"  NATS monitors: {', '.join(monitors)}  (/healthz, /jsz: a stream's leader and replicas)",
        f"  replicas: streams {platform.env['PARTNERNET_STREAM_REPLICAS']}, each service 2, gateways 2",
    ]


def mail_line(platform: Platform, base: str) -> str:
    if platform.mail_catcher:  # nothing leaves the machine: the console shows what would have been sent
        return f"  mail:     {platform.mail_catcher}  (caught, not sent on; read at {base}/console/mail)"
    server = platform.env.get("PARTNERNET_SMTP_HOST", "")
    return f"  mail:     notices go out through {server}:{platform.env.get('PARTNERNET_SMTP_PORT', '25')}"


def step_line(started: float) -> Callable[[str], None]:
    """Each start step on a line of its own with the time since `up` began."""

    def say(line: str) -> None:
        print(f"  [{time.monotonic() - started:5.1f}s] {line}", flush=True)

    return say


def supervision_log(data_dir: Path) -> Callable[[str], None]:
    """What the supervisor reports goes to the terminal and, with the date, to <data-dir>/logs/supervisor.log."""
    log_path = data_dir / "logs" / "supervisor.log"

    def report(line: str) -> None:
        now = datetime.now().astimezone()
        print(f"{now:%H:%M:%S} {line}", file=sys.stderr, flush=True)
        with open(log_path, "a") as log:
            log.write(f"{now.isoformat(timespec='seconds')} {line}\n")

    return report
