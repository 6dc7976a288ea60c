"""Fixtures that start real servers live here, and only here.

The session gets one real NATS JetStream and one real PostgreSQL (see tests/servers.py), a fresh
database, and the four services plus the gateway running in-process against them, each with its own
telemetry providers that all write into one in-memory span exporter.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec
import nats
import nats.js.errors
import pytest
import uvicorn
from cryptography.fernet import Fernet
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.server import server_config
from launcher.embedded import free_port
from launcher.mail_catcher import MailCatcher
from launcher.platform import Platform
from services.courses.app import build as build_courses
from services.partners.app import build as build_partners
from services.referrals.app import build as build_referrals
from services.volunteers.app import build as build_volunteers
from shared.contracts import Envelope
from shared.messaging import STREAMS, event_stream_name
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import Telemetry, setup_telemetry
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer
from tests.processes import processes_using
from tests.servers import create_database, drop_database, nats_server, postgres_server

pytest_plugins = ["tests.checkout_guard"]  # a run leaves the checkout as it found it

T = TypeVar("T")
# One TLS context for every HTTP client the tests make (`verify=TLS_CONTEXT`). Without it httpx builds one for each
# client, loading certifi's CA bundle each time: 0.1-0.2 s of CPU a client on the loaded 2-core machine, spent in the
# event loop that also runs the session's in-process platform, so every request in flight waits behind it. The
# isolation test (a client per request) spent 37 of its 126 s there and, at a load of 12, timed out connecting.
# httpx's own default context, made once; the tests speak plain HTTP to this machine all the same.
TLS_CONTEXT = httpx.create_ssl_context()
_OWN_BASETEMP_ATTR = "_partnernet_own_basetemp"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Every run keeps its temporary files (and so the embedded servers' data) in a directory of its own.

    pytest's default /tmp/pytest-of-<user> is shared by every run of that user, and each new run tightens
    it to 0700: the embedded PostgreSQL, which runs as a system user of its own when the tests run as
    root, then loses its data directory under a run that is still going. A directory of our own is
    never touched by another run, and it goes away with this run, as does every file the run writes.
    """
    worker = hasattr(config, "workerinput")  # a pytest-xdist worker: its basetemp is a folder of the run's own
    if config.option.basetemp is None and not worker:
        own = tempfile.mkdtemp(prefix="partnernet-tests-")
        config.option.basetemp = own
        setattr(config, _OWN_BASETEMP_ATTR, own)
    # Settings() without a data directory would write generated secrets into ./.partnernet of the checkout.
    # Each worker its own: two workers writing one folder's generated secrets at once could read half a file.
    data_dir = str(Path(config.option.basetemp or tempfile.gettempdir()) / "data")
    if worker:
        os.environ["PARTNERNET_DATA_DIR"] = data_dir
    else:
        os.environ.setdefault("PARTNERNET_DATA_DIR", data_dir)
    # Hypothesis (and schemathesis on it) keeps its caches in ./.hypothesis of the checkout unless told otherwise.
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(Path(data_dir).parent / "hypothesis")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: the whole suite runs in two workers, a part of it in this process (README, Tests).

    Most of the suite's time is spent waiting on servers and on the processes the launcher's tests start, and a
    worker's tests run on servers of its own (each worker starts its own NATS, PostgreSQL and platform, which
    costs seconds: worth it for the whole suite, not for one file). PYTEST_XDIST_AUTO_NUM_WORKERS overrides it.
    """
    if count := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(count)
    whole_suite = not config.args or [Path(arg).resolve() for arg in config.args] == [
        config.rootpath / path for path in config.getini("testpaths")
    ]
    return min(2, os.cpu_count() or 1) if whole_suite else 0


# The tests that start the whole platform as processes (marked slow): one worker runs them one after another,
# and first. They are the longest part of the suite, and several platforms starting at once on two cores would
# each take minutes to become healthy.
PLATFORM_PROCESS_FILES = (
    "tests/launcher/test_backup_restore.py",
    "tests/launcher/test_up_supervises.py",
    "tests/launcher/test_cli.py",
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`: a test module goes to one worker as a whole, so its module fixtures
    start once; the platform's process tests go to one worker together (pytest-xdist's own `loadgroup` cannot be
    told so on this pytest: pytest-xdist#1386)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesAndPlatform(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "platform processes" if module in PLATFORM_PROCESS_FILES else module

    return ModulesAndPlatform(config, log)


# Then the longest modules, longest first. With `--dist loadfile` a module is a unit that one worker runs alone, and a
# long one handed out late is a tail the other worker cannot share: the cluster module (4-6 minutes), handed out in its
# alphabetical place, made a fresh clone's run 14 min 45 s. Handed out first, the two workers start with the two
# longest units and share the short modules at the end. Measured alone on the 2-core machine at a load of 9-16 (4 Dec
# 2026): cluster faults 264 s, fuzzing classes 253 s, the OpenAPI contract 95 s, code quality 60 s (mypy without a
# cache, as on a fresh clone), service killed 53 s, alerts 44 s; the other fault modules 2-31 s each.
LONGEST_MODULES = (
    "tests/faults/test_cluster_faults.py",
    "tests/security/test_fuzz_classes.py",
    "tests/e2e/test_gateway_contract.py",
    "tests/test_code_quality.py",
    "tests/faults/test_service_killed.py",
    "tests/faults/test_alerts.py",
)


def handed_out(item: pytest.Item) -> int:
    """An item's module's place in the scheduler's queue: the platform's process tests, the longest modules, the rest
    (each in collection order)."""
    module = item.nodeid.split("::", 1)[0]
    if module in PLATFORM_PROCESS_FILES:
        return 0
    if module in LONGEST_MODULES:
        return 1 + LONGEST_MODULES.index(module)
    return 1 + len(LONGEST_MODULES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a worker, the platform's process tests come first, then the longest modules: the scheduler hands out modules
    in this order (pyproject's `--no-loadscope-reorder`)."""
    if hasattr(config, "workerinput"):
        items.sort(key=handed_out)


@pytest.hookimpl(trylast=True)  # after pytest-xdist has stopped its workers (and they their servers)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run leaves no process behind: every server and platform process of this run has stopped by now (the
    fixtures that started them have stopped them). One that has not is a defect of the test that started it:
    it is named, stopped, and the run fails."""
    own = getattr(session.config, _OWN_BASETEMP_ATTR, None)
    if own is None:
        return
    deadline = time.monotonic() + 10  # stops already asked for may still be under way
    while (left := processes_using(own)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not left:
        return
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["", f"{len(left)} process(es) of this run were still running after it and were killed:"]
    lines += [f"  {pid}: {cmdline[:300]}" for pid, cmdline in left.items()]
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    if own := getattr(config, _OWN_BASETEMP_ATTR, None):
        shutil.rmtree(own, ignore_errors=True)


BUILDERS = {
    "partners": build_partners,
    "referrals": build_referrals,
    "volunteers": build_volunteers,
    "courses": build_courses,
}


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def nats_url(workdir: Path) -> Iterator[str]:
    with nats_server(workdir) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(workdir: Path) -> Iterator[str]:
    with postgres_server(workdir) as url:
        yield url


@pytest.fixture(scope="session")
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    url = await create_database(postgres_url)
    yield url
    await drop_database(postgres_url, url)


def make_settings(nats_url: str, database_url: str, data_dir: Path, *, smtp_port: int | None = None) -> Settings:
    return Settings(
        nats_url=nats_url,
        database_url=database_url,
        data_dir=data_dir,
        jwt_secret=secrets.token_urlsafe(32),
        encryption_key=Fernet.generate_key().decode(),
        pseudonym_key=secrets.token_urlsafe(32),
        blind_index_key=secrets.token_urlsafe(32),
        rpc_timeout_seconds=5.0,
        relay_poll_seconds=0.5,
        consumer_max_deliveries=2,  # poison reaches the dead letters after one retry, within seconds
        # Partners' webhooks retry within a second or two, and feed entries go out at once.
        webhook_max_attempts=4,
        webhook_retry_base_seconds=0.2,
        webhook_retry_max_seconds=1.0,
        webhook_timeout_seconds=2.0,
        partner_delivery_poll_seconds=0.2,
        webhook_allowed_targets=("127.0.0.1", "localhost"),  # the tests' endpoints, on this machine
        # Notices go to the session's mail catcher (a real SMTP server); a failed send is tried again at once.
        smtp_host="127.0.0.1" if smtp_port else None,
        smtp_port=smtp_port or 25,
        smtp_timeout_seconds=5.0,
        mail_retry_base_seconds=0.2,
        mail_retry_max_seconds=1.0,
        mail_max_attempts=4,
    )


def free_port_pair() -> int:
    """A port whose next port is free too: the cluster shape's two gateways listen on both."""
    import socket

    while True:
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port


@pytest.fixture(scope="module")
async def cluster_shape(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> AsyncIterator[Platform]:
    """deploy/'s production shape, as `partnernet up --cluster` starts it: three NATS nodes (streams and the
    idempotency bucket with 3 replicas, sync_interval always), two processes of each service, two gateways;
    on a database of its own on the session's PostgreSQL. Started once per module (about a minute under load),
    bounded by the platform's health deadline; every process stops and the database goes when the module ends.
    A test that kills or pauses a part brings it back before it ends."""
    database_url = await create_database(postgres_url)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_", "DATABASE_", "PARTNERNET_", "OTEL_"))}
    environ |= {
        "DATABASE_URL": database_url,
        "PARTNERNET_RELAY_POLL": "0.5",
        "PARTNERNET_RATE_LIMIT": "1000000",  # the load comes from one partner: the per-caller limit is not tested
        "PARTNERNET_LOG_LEVEL": "WARNING",
    }
    platform = Platform(
        data_dir=tmp_path_factory.mktemp("cluster-shape"),
        port=free_port_pair(),
        environ=environ,
        cluster=True,
        health_deadline=300.0,
    )
    try:
        await asyncio.to_thread(platform.__enter__)  # blocking start; stops what had started if it fails
        yield platform
    finally:
        await asyncio.to_thread(platform.stop)
        await drop_database(postgres_url, database_url)


@pytest.fixture(scope="session")
def mail_catcher(workdir: Path) -> Iterator[MailCatcher]:
    """The SMTP server the session's platform sends its notices to: `partnernet up`'s own catcher, in a thread."""
    with MailCatcher(workdir / "mail", free_port()) as catcher:
        yield catcher


@pytest.fixture(scope="session")
def settings(nats_url: str, database_url: str, workdir: Path, mail_catcher: MailCatcher) -> Settings:
    return make_settings(nats_url, database_url, workdir / "data", smtp_port=mail_catcher.port)


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def telemetry_for(name: str, spans: InMemorySpanExporter) -> Telemetry:
    return setup_telemetry(name, otlp_endpoint=None, span_processors=[SimpleSpanProcessor(spans)])


async def reset_streams(nats_url: str) -> None:
    """A server given by NATS_URL may hold streams of an earlier run; a test run starts from none."""
    if not os.environ.get("NATS_URL"):
        return
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for spec in STREAMS:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(spec.name)
    finally:
        await nc.close()


@dataclass
class RunningPlatform:
    base_url: str
    settings: Settings
    services: dict[str, ServiceRuntime]
    issuer: TokenIssuer

    def token(self, role: Role, **scope: str | None) -> str:
        subject = f"test-{role.value}-{uuid.uuid4().hex[:6]}"
        return self.issuer.issue(Actor(subject=subject, role=role, **scope))

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10, verify=TLS_CONTEXT)


@pytest.fixture(scope="session")
async def platform(settings: Settings, spans: InMemorySpanExporter) -> AsyncIterator[RunningPlatform]:
    await reset_streams(settings.nats_url)
    services = {name: build(settings, telemetry=telemetry_for(name, spans)) for name, build in BUILDERS.items()}
    for runtime in services.values():
        await runtime.start()
    port = free_port()
    app = create_app(settings, telemetry=telemetry_for("gateway", spans))
    server = uvicorn.Server(server_config(app, settings, port=port, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield RunningPlatform(f"http://127.0.0.1:{port}", settings, services, TokenIssuer(settings.jwt_secret))
    finally:
        server.should_exit = True
        await serving
        for runtime in services.values():
            await runtime.stop()


@contextlib.asynccontextmanager
async def another_gateway(settings: Settings) -> AsyncIterator[str]:
    """A second gateway on the session's services, with settings of its own (a test's limits, intervals).

    With an exporter of its own: a gateway shuts its telemetry down when it stops, and that would stop the
    session's exporter, after which no test of the session records a span (the tracing tests then time out).
    """
    app = create_app(settings, telemetry=telemetry_for("gateway", InMemorySpanExporter()))
    port = free_port()
    server = uvicorn.Server(server_config(app, settings, port=port, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():  # it could not start (e.g. its broker is away): say why instead of waiting for ever
            serving.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@contextlib.asynccontextmanager
async def accepting_endpoint() -> AsyncIterator[str]:
    """A partner's webhook endpoint on localhost that takes every delivery (HTTP 200); yields its URL."""

    async def endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(endpoint, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/partnernet"
    finally:
        server.should_exit = True
        await serving


@pytest.fixture
async def webhook_endpoint() -> AsyncIterator[str]:
    async with accepting_endpoint() as url:
        yield url


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = "") -> T:
    """Poll until the probe returns something truthy: events arrive asynchronously, by design."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}")
        await asyncio.sleep(0.05)


async def last_event(nats_url: str, service: str, subject: str) -> Envelope | None:
    """The last event a service published on a subject (read back from its stream), or None."""
    nc = await nats.connect(nats_url)
    try:
        message = await nc.jetstream().get_last_msg(event_stream_name(service), subject)
    except nats.js.errors.NotFoundError:
        return None
    finally:
        await nc.close()
    return msgspec.json.decode(message.data or b"", type=Envelope)


@dataclass
class Tenant:
    """A municipality of its own per test, with two libraries and two referring partners."""

    municipality: str
    library_a: str
    library_b: str
    partner_a: str
    partner_b: str
    operator: str
    staff_a: str
    staff_b: str
    partner_a_token: str
    partner_b_token: str
    coordinator: str = ""


async def record_agreements(platform: RunningPlatform, coordinator: str, partners: list[str]) -> None:
    """The municipality's referral agreement with each partner: referrals need one, or a partnership."""
    async with platform.client(coordinator) as api:
        for partner in partners:
            response = await api.post("/api/v1/referrals/agreements", json={"partner_id": partner})
            assert response.status_code == 201, response.text


async def register_tenant(platform: RunningPlatform, *, agreements: bool = True) -> Tenant:
    """Two libraries and two partners; with the municipality's referral agreement with both unless told not."""
    suffix = uuid.uuid4().hex[:8]
    municipality = f"gem-{suffix}"
    operator = platform.token(Role.OPERATOR)
    async with platform.client(operator) as api:
        (
            await api.post("/api/v1/municipalities", json={"slug": municipality, "name": f"Gemeente {suffix}"})
        ).raise_for_status()
        libraries = [f"bieb-{suffix}-a", f"bieb-{suffix}-b"]
        for slug in libraries:
            body = {"slug": slug, "municipality": municipality, "name": f"Bibliotheek {slug}"}
            (await api.post("/api/v1/libraries", json=body)).raise_for_status()
        partners = []
        for name in ("UWV", "Sociaal Team"):
            body = {"name": f"{name} {suffix}", "kind": "referrer", "municipality": municipality}
            response = await api.post("/api/v1/partners", json=body)
            response.raise_for_status()
            partners.append(response.json()["id"])
    await known_to_referrals(platform, libraries, partners)
    coordinator = platform.token(Role.COORDINATOR, municipality=municipality)
    if agreements:
        await record_agreements(platform, coordinator, partners)
    return Tenant(
        municipality=municipality,
        library_a=libraries[0],
        library_b=libraries[1],
        partner_a=partners[0],
        partner_b=partners[1],
        operator=operator,
        staff_a=platform.token(Role.STAFF, municipality=municipality, library=libraries[0]),
        staff_b=platform.token(Role.STAFF, municipality=municipality, library=libraries[1]),
        partner_a_token=platform.token(Role.PARTNER, municipality=municipality, partner=partners[0]),
        partner_b_token=platform.token(Role.PARTNER, municipality=municipality, partner=partners[1]),
        coordinator=coordinator,
    )


async def known_to_referrals(platform: RunningPlatform, libraries: list[str], partners: list[str]) -> None:
    """The referrals service learns libraries and partners from events; wait until it has."""
    import sqlalchemy as sa

    from services.referrals import store

    async def all_known() -> bool:
        async with platform.services["referrals"].sessions() as session:
            libs = (
                await session.execute(sa.select(sa.func.count()).where(store.known_libraries.c.slug.in_(libraries)))
            ).scalar_one()
            parts = (
                await session.execute(
                    sa.select(sa.func.count()).where(store.known_partners.c.id.in_([uuid.UUID(p) for p in partners]))
                )
            ).scalar_one()
        return libs == len(libraries) and parts == len(partners)

    await eventually(all_known, what="the referrals service to learn the tenant's libraries and partners")


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await register_tenant(platform)


@pytest.fixture(scope="session")
async def elsewhere(platform: RunningPlatform) -> Tenant:
    """Another registered municipality, for intruders from outside: a token is only valid for tenants that exist."""
    return await register_tenant(platform)


ALL_SHARED = ["contact_details", "reason", "outcome"]


def consent_body(*, library: str | None = None, partner_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Consent given to the receiving party of a referral: the library (a partner's referral), or a partner."""
    party = {"library": library} if library is not None else {"partner_id": partner_id}
    consent: dict[str, Any] = {
        "given_at": "2026-01-10T10:00:00Z",
        "given_to": [party],
        "shares": ALL_SHARED,
        "purpose": "warme doorverwijzing naar de bibliotheek voor taal en solliciteren",
        "valid_until": "2099-01-10",
    }
    return consent | overrides


def to_partner_body(library: str, receiving_partner_id: str, **overrides: Any) -> dict[str, Any]:
    """The library refers to a partner: the partner receives, and the consent names it."""
    body = referral_body(library, receiving_partner_id, consent=consent_body(partner_id=receiving_partner_id))
    del body["referring_partner_id"]
    body["receiving_partner_id"] = receiving_partner_id
    return body | overrides


def referral_body(library: str, partner_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "library": library,
        "referring_partner_id": partner_id,
        "contact_person": {"name": "Jan de Consulent", "email": "jan@werkplein.example"},
        "participant": {"name": "Fatima El Amrani", "birth_date": "1984-03-02", "phone": "0612345678"},
        "needs": [{"area": "language", "level": "A2"}, {"area": "job_seeking"}],
        "reason": "Wil solliciteren; Nederlands lezen en schrijven gaat nog moeizaam",
        "preferred_channel": "phone",
        "consent": consent_body(library=library),
    }
    body.update(overrides)
    return body
