"""`partnernet up --demo` gives each demo library its general address (name, e-mail, phone), as a real library's
directory entry has; a demo seeded before it had addresses gets them on the next run. On the session's platform."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from launcher.demo import LIBRARIES, seed_demo
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform


def seed(platform: RunningPlatform, data_dir: Path) -> list[str]:
    return list(seed_demo(platform.base_url, dataclasses.replace(platform.settings, data_dir=data_dir)))


async def test_each_demo_library_has_a_general_address_its_municipality_reads(
    platform: RunningPlatform, tmp_path: Path
) -> None:
    await asyncio.to_thread(seed, platform, tmp_path)
    coordinator = platform.token(Role.COORDINATOR, municipality="zuidstad")
    operator = platform.token(Role.OPERATOR)
    async with platform.client(coordinator) as api:
        for library in LIBRARIES:
            found = await api.get(f"/api/v1/libraries/{library['slug']}")
            assert found.status_code == 200, found.text
            entry = found.json()
            assert (entry["name"], entry["email"], entry["phone"]) == (
                library["name"],
                library["email"],
                library["phone"],
            )
    assert len({library["email"] for library in LIBRARIES}) == len(LIBRARIES)  # each its own address

    # A demo from before the addresses (none set) gets them when seeded again.
    first = LIBRARIES[0]["slug"]
    async with platform.client(operator) as api:
        cleared = await api.patch(f"/api/v1/libraries/{first}", json={"email": None, "phone": None})
        assert cleared.status_code == 200 and cleared.json()["email"] is None and cleared.json()["phone"] is None
    await asyncio.to_thread(seed, platform, tmp_path)
    async with platform.client(coordinator) as api:
        again = (await api.get(f"/api/v1/libraries/{first}")).json()
    assert (again["email"], again["phone"]) == (LIBRARIES[0]["email"], LIBRARIES[0]["phone"])
