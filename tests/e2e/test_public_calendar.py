"""The public course calendar over HTTP on the real platform (issue 22): no sign-in, every published course of
the municipality's libraries and partners and nothing for staff, the filters, free places and waiting lists as
they are now, schema.org Event markup, and the iCalendar feed read strictly, per library and per filter."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.e2e.calendar_support import Offer, json_ld_of, municipal_offer, parse_icalendar, text_value
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_tenant


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


@pytest.fixture(scope="module")
async def offer(platform: RunningPlatform, tenant: Tenant) -> Offer:
    return await municipal_offer(platform, tenant)


def anonymous(platform: RunningPlatform) -> httpx.AsyncClient:
    return platform.client()


async def test_residents_see_every_published_course_of_libraries_and_partners_and_nothing_for_staff(
    platform: RunningPlatform, tenant: Tenant, offer: Offer
) -> None:
    async with anonymous(platform) as web:
        page = await web.get(f"/m/{tenant.municipality}/courses")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in page.text
    text = page.text
    for shown in (offer.public, offer.other_library, offer.partner):
        assert f"/courses/{shown['session']['id']}" in text
    assert "Klik &amp; Tik, &lt;b&gt;beginners&lt;/b&gt;, deel 1" in text  # escaped, never markup
    assert "Nederlands oefenen" in text and "Rekenen met geld" in text
    for hidden in (offer.staff_only, offer.draft):
        assert hidden["session"]["id"] not in text
    assert "Interne training" not in text and "Nog geheim" not in text
    # Its own session page too: a course for staff is not found, like one that does not exist.
    async with anonymous(platform) as web:
        staff_page = await web.get(f"/m/{tenant.municipality}/courses/{offer.staff_only['session']['id']}")
        elsewhere = await web.get(f"/m/gem-onbekend/courses/{offer.public['session']['id']}")
    assert staff_page.status_code == 404 and "Interne training" not in staff_page.text
    assert elsewhere.status_code == 404


async def test_the_filters_narrow_the_calendar_and_english_is_a_link_away(
    platform: RunningPlatform, tenant: Tenant, offer: Offer
) -> None:
    public, partner, other = (x["session"]["id"] for x in (offer.public, offer.partner, offer.other_library))
    weekday = datetime.fromisoformat(offer.partner["session"]["starts_at"]).isoweekday()
    cases = [
        ({"skill_area": "language"}, {other}, {public, partner}),
        ({"audience": "seniors"}, {public}, {other, partner}),
        ({"library": tenant.library_b}, {other}, {public, partner}),
        ({"place": "noord"}, {partner}, {public, other}),
        ({"day": str(weekday)}, {partner}, set()),
    ]
    async with anonymous(platform) as web:
        for params, shown, not_shown in cases:
            page = await web.get(f"/m/{tenant.municipality}/courses", params=params)
            assert page.status_code == 200, (params, page.text)
            for session_id in shown:
                assert session_id in page.text, params
            for session_id in not_shown:
                assert session_id not in page.text, params
        english = await web.get(f"/m/{tenant.municipality}/courses", params={"lang": "en", "skill_area": "digital"})
        assert '<html lang="en">' in english.text and "Find a course" in english.text
        assert public in english.text and other not in english.text
        # The link back to every course says so (a dict's method name once printed "<built-in method clear …>").
        assert ">Clear the choice</a>" in english.text and "built-in method" not in english.text


async def test_free_places_and_the_waiting_list_are_as_they_are_now(
    platform: RunningPlatform, tenant: Tenant, offer: Offer
) -> None:
    session_id = offer.other_library["session"]["id"]
    url = f"/m/{tenant.municipality}/courses/{session_id}"
    async with anonymous(platform) as web:
        before = json_ld_of((await web.get(url)).text)
    assert before["remainingAttendeeCapacity"] == 8
    async with platform.client(tenant.staff_b) as api:
        for n in range(3):
            enrolled = await api.post(
                f"/api/v1/sessions/{session_id}/enrolments", json={"participant_pseudonym": f"P-CAL{n:07d}"}
            )
            assert enrolled.status_code == 201, enrolled.text
    async with anonymous(platform) as web:
        page = (await web.get(url)).text
        after = json_ld_of(page)
    assert after["remainingAttendeeCapacity"] == 5
    assert "Nog 5 plekken vrij." in page


async def test_a_full_session_says_how_long_the_waiting_list_is(
    platform: RunningPlatform, tenant: Tenant, offer: Offer
) -> None:
    session_id = offer.partner["session"]["id"]
    async with platform.client(tenant.partner_a_token) as api:
        for n in range(7):  # capacity 5: five places, two waiting
            enrolled = await api.post(
                f"/api/v1/sessions/{session_id}/enrolments", json={"participant_pseudonym": f"P-FULL{n:06d}"}
            )
            assert enrolled.status_code == 201, enrolled.text
    async with anonymous(platform) as web:
        page = (await web.get(f"/m/{tenant.municipality}/courses/{session_id}", params={"lang": "en"})).text
    assert "Full. 2 people on the waiting list." in page
    markup = json_ld_of(page)
    assert markup["offers"]["availability"] == "https://schema.org/SoldOut"


async def test_each_session_is_a_schema_org_event(platform: RunningPlatform, tenant: Tenant, offer: Offer) -> None:
    async with anonymous(platform) as web:
        page = (await web.get(f"/m/{tenant.municipality}/courses")).text
    events = json_ld_of(page)
    assert isinstance(events, list)
    by_url = {e["url"].split("/courses/")[1].split("?")[0]: e for e in events}
    assert set(by_url) == {x["session"]["id"] for x in (offer.public, offer.other_library, offer.partner)}
    event = by_url[offer.public["session"]["id"]]
    assert event["@context"] == "https://schema.org" and event["@type"] == "Event"
    assert event["name"] == "Klik & Tik, <b>beginners</b>, deel 1"
    assert "</script>" not in page.split('type="application/ld+json">')[1].split("</script>")[0]
    start = datetime.fromisoformat(event["startDate"])
    assert start == datetime.fromisoformat(offer.public["session"]["starts_at"])
    assert start.utcoffset() is not None  # with its offset: Dutch time
    assert event["location"]["@type"] == "Place" and event["organizer"]["name"]
    assert event["offers"]["priceCurrency"] == "EUR"
    assert event["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"


async def test_the_offer_is_an_icalendar_feed_per_library_and_per_filter(
    platform: RunningPlatform, tenant: Tenant, offer: Offer
) -> None:
    async with anonymous(platform) as web:
        whole = await web.get(f"/m/{tenant.municipality}/courses.ics")
        per_library = await web.get(f"/m/{tenant.municipality}/courses.ics", params={"library": tenant.library_a})
        numeracy = await web.get(f"/m/{tenant.municipality}/courses.ics", params={"skill_area": "numeracy"})
    assert whole.status_code == 200
    assert whole.headers["content-type"].startswith("text/calendar")
    events = parse_icalendar(whole.text)
    # One event per meeting: three sessions of two meetings each.
    sessions = {x["session"]["id"] for x in (offer.public, offer.other_library, offer.partner)}
    assert {e["UID"][0][1].split("-1@")[0].split("-2@")[0] for e in events} == sessions
    assert len(events) == 6
    summaries = {text_value(e["SUMMARY"][0][1]) for e in events}
    assert "Klik & Tik, <b>beginners</b>, deel 1 (1/2)" in summaries
    partner_event = next(e for e in events if text_value(e["SUMMARY"][0][1]).startswith("Rekenen"))
    assert "Stationsplein 1; 2e etage" in text_value(partner_event["LOCATION"][0][1])
    assert "Interne training" not in whole.text and "Nog geheim" not in whole.text
    library_events = parse_icalendar(per_library.text)
    assert {text_value(e["SUMMARY"][0][1]).split(" (")[0] for e in library_events} == {
        "Klik & Tik, <b>beginners</b>, deel 1"
    }
    assert {text_value(e["SUMMARY"][0][1]).split(" (")[0] for e in parse_icalendar(numeracy.text)} == {
        "Rekenen met geld"
    }


@pytest.mark.parametrize(
    "query",
    [
        {"skill_area": "astrology"},
        {"audience": "partner_staff"},  # staff training is no audience of the calendar
        {"day": "8"},
        {"day": "maandag"},
        {"library": "NOT A SLUG"},
        {"place": "x" * 101},
    ],
)
async def test_a_bad_filter_is_a_clear_400_page_and_a_422_problem_for_the_feed(
    platform: RunningPlatform, tenant: Tenant, query: dict[str, str]
) -> None:
    async with anonymous(platform) as web:
        page = await web.get(f"/m/{tenant.municipality}/courses", params=query)
        feed = await web.get(f"/m/{tenant.municipality}/courses.ics", params=query)
    assert page.status_code == 400, page.text
    assert "Deze keuze kennen we niet" in page.text
    assert feed.status_code == 422, feed.text
    assert feed.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_municipality_has_no_calendar(platform: RunningPlatform) -> None:
    async with anonymous(platform) as web:
        page = await web.get("/m/gem-bestaat-niet/courses")
        feed = await web.get("/m/gem-bestaat-niet/courses.ics")
        not_a_slug = await web.get("/m/NIET%20GOED/courses")
    assert page.status_code == 404 and "Niet gevonden" in page.text
    assert feed.status_code == 404
    assert not_a_slug.status_code in (400, 404)
