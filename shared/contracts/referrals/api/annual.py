"""The referrals part of a municipality's annual report (`rpc.referrals.annual_figures`): counts of the referrals
submitted in a year (the Dutch calendar's) and the time to their intake. Counts only, no personal data; the
gateway suppresses small counts before anyone sees them."""

from __future__ import annotations

from uuid import UUID

import msgspec

from shared.contracts.referrals.api.referrals import ReferralDirection
from shared.contracts.vocabulary import Slug, Year


class GetAnnualReferralFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Within the actor's scope: operators `municipality` (all without it), coordinators their municipality,
    staff their library; partners Forbidden. `library` narrows further."""

    year: Year
    municipality: str | None = None
    library: Slug | None = None


class ReferralYearCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many referrals submitted in the year have this library, partner, direction and status now."""

    library: str
    partner_id: UUID | None  # the referring partner (to_library) or the receiving one (to_partner); None: walk-in
    direction: ReferralDirection
    status: str  # a ReferralStatus value
    count: int


class IntakeYearFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Referrals submitted in the year whose intake took place, and the median hours from submission until then
    (0 for one registered after its intake). Per library (`library` set), per partner (`partner_id` set) or over
    the whole scope (neither)."""

    library: str | None = None
    partner_id: UUID | None = None
    intakes: int
    median_hours: float | None = None


class AnnualReferralFigures(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    counts: list[ReferralYearCount]
    intakes: list[IntakeYearFigures]
