"""The partners service's part of a municipality's open data (issue 22, the HSDS API and dataset): its libraries
and the partners that agreed to publish, with only what each agreed to (`rpc.partners.open_data`). Asked for
residents and other systems, without signing in; nothing here names a person."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from shared.contracts.partners.api.organisations import Address, OpenDataChoices
from shared.contracts.partners.events import PartnerKind
from shared.contracts.vocabulary import SkillArea, Slug


class GetOpenData(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    municipality: Slug


class OpenLibrary(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str
    registered_at: datetime


class OpenPartner(msgspec.Struct, frozen=True, kw_only=True):
    """A partner as it agreed to be published: what it chose not to publish is left empty."""

    id: UUID
    name: str
    kind: PartnerKind
    skill_areas: list[SkillArea]
    website: str | None
    email: str | None
    phone: str | None
    addresses: list[Address]  # visiting addresses only
    choices: OpenDataChoices
    updated_at: datetime


class OpenDataView(msgspec.Struct, frozen=True, kw_only=True):
    municipality: str
    municipality_name: str
    libraries: list[OpenLibrary]  # by name
    partners: list[OpenPartner]  # active partners that publish, by name
