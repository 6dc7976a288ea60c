"""Which event tells whom what, and the words of the messages: pure rules, no servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from services.partners.domain import notices
from shared.contracts.partners.api.notices import NoticeKind, NoticeLanguage
from shared.errors import Forbidden, InvalidInput
from shared.ids import new_id
from shared.tenancy import Actor, Role

EVENT = UUID("0190a000-0000-7000-8000-0000000000e1")
REFERRAL = "0190a000-0000-7000-8000-0000000000aa"
PARTNER = "0190a000-0000-7000-8000-0000000000bb"
RECEIVER = "0190a000-0000-7000-8000-0000000000cc"


def data(**fields: object) -> dict[str, object]:
    return {
        "referral_id": REFERRAL,
        "participant_pseudonym": "P-123",
        "library": "bieb-a",
        "municipality": "gem",
        "referring_partner_id": PARTNER,
        "receiving_partner_id": None,
    } | fields


@pytest.mark.parametrize(
    ("event_type", "fields", "kind", "audience"),
    [
        ("referral.submitted", {}, NoticeKind.REFERRAL_SUBMITTED, notices.Audience(library="bieb-a")),
        (
            "referral.submitted",
            {"referring_partner_id": None, "receiving_partner_id": RECEIVER},
            NoticeKind.REFERRAL_SUBMITTED,
            notices.Audience(partner_id=UUID(RECEIVER)),
        ),
        (
            "referral.overdue",
            {"respond_by": "2026-12-01T10:00:00Z"},
            NoticeKind.REFERRAL_OVERDUE,
            notices.Audience(library="bieb-a"),
        ),
        (
            "referral.declined",
            {"reason": "no_capacity"},
            NoticeKind.REFERRAL_DECLINED,
            notices.Audience(partner_id=UUID(PARTNER)),
        ),
        (
            "referral.declined",
            {"reason": "other", "referring_partner_id": None, "receiving_partner_id": RECEIVER},
            NoticeKind.REFERRAL_DECLINED,
            notices.Audience(library="bieb-a"),
        ),
        (
            "referral.notification_requested",
            {"reason": "place_from_waiting_list"},
            NoticeKind.WAITING_LIST_PLACE,
            notices.Audience(library="bieb-a"),
        ),
    ],
)
def test_each_event_tells_the_side_that_must_act(
    event_type: str, fields: dict[str, object], kind: NoticeKind, audience: notices.Audience
) -> None:
    notice = notices.referral_notice(EVENT, event_type, data(**fields))
    assert notice is not None
    assert (notice.kind, notice.audience, notice.cause) == (kind, audience, str(EVENT))
    assert notice.path == f"/console/referrals/{REFERRAL}"


@pytest.mark.parametrize("event_type", ["referral.accepted", "referral.completed", "referral.anonymised"])
def test_other_events_tell_nobody(event_type: str) -> None:
    assert notices.referral_notice(EVENT, event_type, data()) is None


@pytest.mark.parametrize("language", list(NoticeLanguage))
def test_a_message_names_the_reference_and_links_to_the_console_only(language: NoticeLanguage) -> None:
    notice = notices.referral_notice(EVENT, "referral.declined", data(reason="no_capacity"))
    assert notice is not None
    message = notices.compose(notice, language, "https://partnernet.example")
    assert REFERRAL[-8:] in message.subject
    assert f"https://partnernet.example/console/referrals/{REFERRAL}" in message.body
    assert "https://partnernet.example/console/notices" in message.body
    assert "P-123" not in message.body + message.subject  # not even the pseudonym: the reference is enough


def test_staff_coordinators_and_partners_people_choose_among_their_kinds_and_nobody_else_chooses() -> None:
    staff = Actor(subject="lies", role=Role.STAFF, municipality="gem", library="bieb-a")
    partner = Actor(subject="jan", role=Role.PARTNER, partner=PARTNER)
    assert notices.check_choice(staff, "a@b.nl", [NoticeKind.REVIEW_DUE, NoticeKind.REFERRAL_SUBMITTED]) == [
        NoticeKind.REFERRAL_SUBMITTED,
        NoticeKind.REVIEW_DUE,
    ]
    with pytest.raises(InvalidInput):
        notices.check_choice(staff, "a@b.nl", [NoticeKind.DELIVERY_FAILED])
    with pytest.raises(InvalidInput):
        notices.check_choice(partner, "a@b.nl", [NoticeKind.WAITING_LIST_PLACE])
    with pytest.raises(InvalidInput):
        notices.check_choice(partner, "jän@b.nl", [])
    coordinator = Actor(subject="co", role=Role.COORDINATOR, municipality="gem")
    assert notices.check_choice(coordinator, "c@gem.nl", [NoticeKind.PARTNER_DELIVERY_FAILED]) == [
        NoticeKind.PARTNER_DELIVERY_FAILED
    ]
    with pytest.raises(InvalidInput):
        notices.check_choice(coordinator, "c@gem.nl", [NoticeKind.REFERRAL_SUBMITTED])
    for outsider in (
        Actor(subject="op", role=Role.OPERATOR),
        Actor(subject="co", role=Role.COORDINATOR),  # of no municipality
        Actor(subject="api-key:1", role=Role.PARTNER, partner=PARTNER),
    ):
        with pytest.raises(Forbidden):
            notices.kinds_for(outsider)


def test_an_event_older_than_a_day_tells_nobody() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert not notices.is_stale(now - timedelta(hours=23), now)
    assert notices.is_stale(now - timedelta(days=1, seconds=1), now)


def test_two_referrals_made_in_the_same_minute_have_different_references() -> None:
    first, second = new_id(), new_id()  # time-ordered: their first characters are the same time
    assert str(first)[:8] == str(second)[:8]
    assert notices.reference_of(first) != notices.reference_of(second)


@pytest.mark.parametrize("language", list(NoticeLanguage))
def test_a_coordinators_notices_name_the_partnership_or_delivery_and_link_to_the_partner(
    language: NoticeLanguage,
) -> None:
    partner = UUID(PARTNER)
    made = [
        notices.coordinators_review_notice(EVENT, UUID(REFERRAL), partner, "gem", "2027-01-05"),
        notices.partnership_ended_notice(EVENT, UUID(REFERRAL), partner, "gem"),
        notices.partner_delivery_failed_notice(UUID(REFERRAL), partner, 5),
    ]
    for notice in made:
        assert notice.audience.coordinators
        message = notices.compose(notice, language, "https://partnernet.example")
        assert str(UUID(REFERRAL))[-8:] in message.subject
        assert f"https://partnernet.example/console/network/partners/{partner}" in message.body


def test_a_notice_says_its_moment_in_dutch_time_and_a_reason_in_words() -> None:
    """Partners read 'Antwoorden vóór: 2026-12-15T12:13:27.954786Z' and 'Reden (code): other' in Dutch mails."""
    submitted = notices.referral_notice(
        EVENT, "referral.submitted", data(respond_by="2026-12-15T12:13:27.954786Z", library="bieb-a")
    )
    declined = notices.referral_notice(EVENT, "referral.declined", data(reason="no_capacity"))
    assert submitted is not None and declined is not None
    dutch = notices.compose(submitted, NoticeLanguage.NL, "https://partnernet.example").body
    english = notices.compose(submitted, NoticeLanguage.EN, "https://partnernet.example").body
    assert "Antwoorden vóór: 15-12-2026 13:13" in dutch and "2026-12-15T12:13" not in dutch
    assert "Answer by: 2026-12-15 13:13" in english  # winter: UTC+1
    assert "Reden: geen plaats" in notices.compose(declined, NoticeLanguage.NL, "https://p.example").body
    assert "Reason: no place" in notices.compose(declined, NoticeLanguage.EN, "https://p.example").body
