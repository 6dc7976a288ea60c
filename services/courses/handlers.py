"""NATS operations and event subscribers of the courses service.

So far only the runtime's health operation: the course offer, enrolment and purchasing arrive with
the courses issue, in the same shape as the partners and referrals services.
"""

from __future__ import annotations

from shared.service import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Nothing of its own yet; the runtime answers `rpc.courses.health`."""
