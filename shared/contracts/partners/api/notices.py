"""Notices by e-mail: which ones a person gets, and where (`rpc.partners.get_notice_preferences`,
`.set_notice_preferences`), and what went out (`.list_mail`, operators).

A notice names a referral by its reference and links to the console; it never carries a participant's personal data.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from shared.contracts.vocabulary import DEFAULT_LIMIT, Cursor, Email, ExpectedVersion, Limit


class NoticeKind(enum.StrEnum):
    REFERRAL_SUBMITTED = "referral_submitted"  # a new referral for you to answer
    REFERRAL_OVERDUE = "referral_overdue"  # a referral to you is past its answer-by time
    REFERRAL_DECLINED = "referral_declined"  # a referral you made was declined
    REVIEW_DUE = "review_due"  # a partnership of your library is due for its review
    WAITING_LIST_PLACE = "waiting_list_place"  # a place came free for someone on a waiting list: tell them
    DELIVERY_FAILED = "delivery_failed"  # a webhook delivery to your endpoint failed for good
    # the coordinator's, for the whole municipality (REVIEW_DUE too: any library's partnership)
    PARTNERSHIP_ENDED = "partnership_ended"  # a partnership of a library with a partner ended (or lapsed)
    PARTNER_DELIVERY_FAILED = "partner_delivery_failed"  # a webhook delivery to a partner of yours failed for good


class NoticeLanguage(enum.StrEnum):
    NL = "nl"
    EN = "en"


class GetNoticePreferences(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The caller's own (staff or a partner's person): nobody reads another's."""


class SetNoticePreferences(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Email
    language: NoticeLanguage = NoticeLanguage.NL
    kinds: Annotated[list[NoticeKind], msgspec.Meta(max_length=20)]  # empty: none at all
    expected_version: ExpectedVersion | None = None  # the version read; None only for the first choice


class NoticePreferences(msgspec.Struct, frozen=True, kw_only=True):
    """A person's choice; before the first one (`version` 0, no address) the defaults for their role."""

    email: str | None
    language: NoticeLanguage
    kinds: list[NoticeKind]
    available: list[NoticeKind]  # the kinds a person in this role can get
    version: int
    mail_enabled: bool  # False: the platform has no SMTP server configured, so nothing is sent


class ListMail(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Newest first, a page at a time (`Page[MailView]`, its `next_cursor` as the next request's `cursor`)."""

    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class MailView(msgspec.Struct, frozen=True, kw_only=True):
    """One message of the mail outbox, for operators: to whom, what about, and how sending went."""

    id: UUID
    kind: NoticeKind
    recipient: str
    subject: str
    status: MailStatus
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    last_error: str | None
