"""A participant's rights as one person across referrals (`rpc.referrals.export_person`, `.erase_person`):
the referrals of the same person are found through the blind index (keyed hashes of name and birth date), never
by comparing a name in clear. Staff of a library act for the referrals of their own library.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from uuid import UUID

import msgspec

from shared.contracts.referrals.api.participant_data import AccessLogEntry
from shared.contracts.referrals.api.participant_page import ChangeRequestView
from shared.contracts.referrals.api.referrals import ReferralView
from shared.contracts.vocabulary import Name


class PersonLookup(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who the person is: one of their referrals, or their name and birth date as they give them at the desk.

    The name travels in a body only (never an address), is hashed under the blind index key in the referrals
    service and is neither stored nor logged."""

    referral_id: UUID | None = None
    name: Name | None = None
    birth_date: date | None = None


class PersonRight(enum.StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


class AskOtherLibraries(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person asked at this library's desk for their data, or its erasure, everywhere in the municipality: each
    other library that holds them gets the request in its list (the person found as in `PersonLookup`)."""

    referral_id: UUID | None = None
    name: Name | None = None
    birth_date: date | None = None
    right: PersonRight


class OtherLibrariesAsked(msgspec.Struct, frozen=True, kw_only=True):
    """Nothing about which libraries or how many: that is theirs to answer to the person."""

    right: PersonRight
    asked_at: datetime


class PartyKind(enum.StrEnum):
    LIBRARY = "library"
    PARTNER = "partner"


class PartyRole(enum.StrEnum):
    LIBRARY = "library"  # the library of the referral (the controller of the data)
    REFERRING = "referring"  # referred the person (it gave the data)
    RECEIVING = "receiving"  # received the person (it was given the data)
    READER = "reader"  # read the data (the access log) without being a party of the referral


class PartyView(msgspec.Struct, frozen=True, kw_only=True):
    """A party that holds or saw the person's data: the library, the partners of their referrals, and whoever
    the access log shows reading it."""

    kind: PartyKind
    id: str  # a library's slug or a partner's id
    name: str | None = None
    roles: list[PartyRole]
    reads: int  # reads of the person's data in the access log
    first_read_at: datetime | None = None
    last_read_at: datetime | None = None


class PersonExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the library holds about the person (the right of access), machine-readable.

    `referrals` are the person's referrals of `library`, each with its personal data (as recorded with it), its
    history and its consent; `access_log` every read of them; `parties` everyone who holds or saw the data;
    `requests` what the person asked the library (on their page or at the desk) and whether it was handled.
    A referral whose personal data is erased is listed without it (and its reads stay in the log)."""

    library: str
    referrals: list[ReferralView]
    access_log: list[AccessLogEntry]
    parties: list[PartyView]
    exported_at: datetime
    requests: list[ChangeRequestView] = []


class PersonErased(msgspec.Struct, frozen=True, kw_only=True):
    """The person's referrals of `library` and what the erasure did to each: `erased` now, or erased before."""

    library: str
    erased: list[UUID]
    already_erased: list[UUID]
    erased_at: datetime
