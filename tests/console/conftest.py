"""The console's tests: a real headless Chromium (the system's, never a downloaded one) and a cookie-keeping
HTTP client that signs in like a browser does.

Without /usr/bin/chromium (or Playwright) the browser tests are skipped with the reason; `.ci/run` installs
Debian's `chromium` where apt-get exists. Screenshots go to the run's own temporary directory (removed with it:
a test run leaves the checkout as it found it), or to PARTNERNET_CONSOLE_ARTIFACTS where they should be kept.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.tenancy import Role
from tests.console.seed import seed_library, seed_partnership, seed_referrals
from tests.fixtures.platform import TLS_CONTEXT, RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.services.courses.support import courses_know
from tests.services.volunteers.volunteer_tenant import known_to_volunteers
from tests.waiting import PATIENCE_SECONDS

CHROMIUM = Path(os.environ.get("PARTNERNET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "axe.min.js"


def browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (uv sync --dev)"
    if not (CHROMIUM.exists() or shutil.which(str(CHROMIUM))):
        return f"no Chromium at {CHROMIUM}: apt-get install chromium (as .ci/run does)"
    return None


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kept = os.environ.get("PARTNERNET_CONSOLE_ARTIFACTS")
    if not kept:
        return tmp_path_factory.mktemp("console-artifacts")
    Path(kept).mkdir(parents=True, exist_ok=True)
    return Path(kept)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    try:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
    finally:
        await playwright.stop()


CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


class ConsoleClient:
    """An HTTP client that keeps cookies and sends the CSRF token of the last page, like a browser with forms."""

    def __init__(self, platform: RunningPlatform) -> None:
        self.http = httpx.AsyncClient(
            base_url=platform.base_url, timeout=PATIENCE_SECONDS, follow_redirects=False, verify=TLS_CONTEXT
        )
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.get(path, **kwargs)
        if found := CSRF.search(response.text):
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        return await self.http.post(path, data=form)

    async def sign_in(self, token: str) -> httpx.Response:
        await self.get("/console/sign-in")
        response = await self.post("/console/sign-in", {"token": token})
        assert response.status_code == 303, response.text
        return response

    async def aclose(self) -> None:
        await self.http.aclose()


@pytest.fixture
async def console(platform: RunningPlatform) -> AsyncIterator[ConsoleClient]:
    client = ConsoleClient(platform)
    try:
        yield client
    finally:
        await client.aclose()


@dataclass
class World:
    """A municipality with something to show: library A has a budget, a course, applicants and referrals."""

    platform: RunningPlatform
    tenant: Tenant
    coordinator: str

    @property
    def base(self) -> str:
        return self.platform.base_url


@pytest.fixture(scope="session")
async def world(platform: RunningPlatform) -> World:
    tenant = await register_tenant(platform)
    await courses_know(platform, tenant)
    await known_to_volunteers(platform, [tenant.library_a, tenant.library_b], [], [])
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    async with (
        platform.client(tenant.staff_a) as staff,
        platform.client(tenant.partner_a_token) as partner,
        platform.client(coordinator) as municipality,
    ):
        await seed_library(staff, tenant.staff_a, tenant.library_a, municipality)
        await seed_referrals(partner, staff, tenant.library_a, tenant.partner_a)
        await seed_partnership(staff, tenant.library_a, tenant.partner_a)
    return World(platform, tenant, coordinator)
