"""Rows as the views the gateway shows."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import sqlalchemy as sa

from shared.contracts.partners.api.api_keys import ApiKeyView
from shared.contracts.partners.api.feeds import (
    DeliveryAttemptView,
    DeliveryStatus,
    DeliveryView,
    FeedEntryView,
    WebhookStatus,
    WebhookView,
)
from shared.contracts.partners.api.organisations import (
    Address,
    OpenDataChoices,
    PartnerContact,
    PartnerStatus,
    PartnerView,
)
from shared.contracts.partners.api.partnerships import (
    Contribution,
    MapPartnership,
    PartnershipRole,
    PartnershipStatus,
    PartnershipView,
)
from shared.contracts.partners.events import PartnerKind
from shared.contracts.vocabulary import SkillArea


def partner_view(row: sa.Row) -> PartnerView:
    return PartnerView(
        id=row.id,
        name=row.name,
        kind=PartnerKind(row.kind),
        municipality=row.municipality,
        chamber_of_commerce_number=row.chamber_of_commerce_number,
        registered_at=row.registered_at,
        status=PartnerStatus(row.status),
        status_reason=row.status_reason,
        addresses=msgspec.convert(row.addresses, list[Address]),
        contacts=msgspec.convert(row.contacts, list[PartnerContact]),
        skill_areas=[SkillArea(area) for area in row.skill_areas],
        email=row.email,
        phone=row.phone,
        website=row.website,
        version=row.version,
        updated_at=row.updated_at,
        open_data=msgspec.convert(row.open_data, OpenDataChoices),
    )


def partnership_view(row: sa.Row) -> PartnershipView:
    return PartnershipView(
        id=row.id,
        library=row.library,
        municipality=row.municipality,
        partner_id=row.partner_id,
        partner_name=row.partner_name,
        library_name=row.library_name,
        roles=[PartnershipRole(role) for role in row.roles],
        library_contributions=[Contribution(c) for c in row.library_contributions],
        partner_contributions=[Contribution(c) for c in row.partner_contributions],
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        review_on=row.review_on,
        status=PartnershipStatus(row.status),
        note=row.note,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        activated_at=row.activated_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        # Reminded of the review date it still has (a new date clears it), and not ended.
        review_due=row.review_reminded_for is not None
        and row.review_reminded_for == row.review_on
        and row.status != PartnershipStatus.ENDED.value,
    )


def map_partnership(row: sa.Row) -> MapPartnership:
    return MapPartnership(
        partnership_id=row.id,
        library=row.library,
        roles=[PartnershipRole(role) for role in row.roles],
        status=PartnershipStatus(row.status),
        library_contributions=[Contribution(c) for c in row.library_contributions],
        partner_contributions=[Contribution(c) for c in row.partner_contributions],
        starts_on=row.starts_on,
        ends_on=row.ends_on,
    )


def feed_entry_view(row: sa.Row) -> FeedEntryView:
    return FeedEntryView(
        position=row.position,
        event_id=row.event_id,
        type=row.event_type,
        time=row.time,
        library=row.library,
        data=row.data,
    )


def webhook_view(row: sa.Row) -> WebhookView:
    return WebhookView(
        id=row.id,
        partner_id=row.partner_id,
        url=row.url,
        event_types=list(row.event_types),
        description=row.description,
        status=WebhookStatus(row.status),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        secret_rotated_at=row.secret_rotated_at,
        previous_secret_valid_until=row.previous_secret_expires_at if row.previous_secret else None,
    )


def delivery_view(row: sa.Row, attempts: Sequence[sa.Row] = ()) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        event_type=row.event_type,
        feed_position=row.feed_position,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if row.status == DeliveryStatus.PENDING else None,
        delivered_at=row.delivered_at,
        failed_at=row.failed_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        attempt_log=[
            DeliveryAttemptView(
                attempt=a.attempt, at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms
            )
            for a in attempts
        ],
    )


def api_key_view(row: sa.Row) -> ApiKeyView:
    return ApiKeyView(
        id=row.id,
        partner_id=row.partner_id,
        name=row.name,
        scopes=list(row.scopes),
        prefix=row.prefix,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        created_for_support=row.created_for_support,
        revoked_by=row.revoked_by,
        revoked_for_support=row.revoked_for_support,
    )
