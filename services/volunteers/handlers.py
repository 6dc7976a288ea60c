"""NATS operations and event subscribers of the volunteers service.

So far only the runtime's health operation: vacancies, applications, screening and training arrive
with the volunteers issue, in the same shape as the partners and referrals services.
"""

from __future__ import annotations

from shared.service import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Nothing of its own yet; the runtime answers `rpc.volunteers.health`."""
