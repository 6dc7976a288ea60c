"""The partners service's figures for the gateway's municipality overview (`rpc.partners.statistics`)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from shared.contracts.partners.events import PartnerKind


class GetPartnersStatistics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The libraries and partners an overview is about, within the actor's scope.

    Operators: every municipality, or `municipality`; coordinators: their municipality; staff: their
    library, and every partner of their municipality (a referral to a partner without a partnership, or an
    ended one, is the library's figure too); partners: Forbidden. `library` narrows further.
    """

    municipality: str | None = None
    library: str | None = None


class StatisticsLibrary(msgspec.Struct, frozen=True, kw_only=True):
    library: str
    municipality: str
    name: str
    active_partnerships: int
    partnership_reviews_due: int = 0  # active or suspended partnerships whose review date has come (reminded)


class StatisticsPartner(msgspec.Struct, frozen=True, kw_only=True):
    partner_id: UUID
    municipality: str
    name: str
    kind: PartnerKind
    status: str  # "active", "suspended", "ended"
    active_partnerships: int


class PartnersStatistics(msgspec.Struct, frozen=True, kw_only=True):
    libraries: list[StatisticsLibrary]
    partners: list[StatisticsPartner]
