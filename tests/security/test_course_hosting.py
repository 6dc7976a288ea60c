"""Finding 6: a partner offers a course hosted at a library only while it has an active partnership with that
library: not created, not published without one (its own premises need nobody's agreement)."""

from __future__ import annotations

from tests.fixtures.platform import RunningPlatform
from tests.services.courses.support import (
    course_body,
    course_tenant,
    partnership_known_to_courses,
    partnership_state_known,
)


async def test_a_partner_hosts_a_course_at_a_library_only_with_an_active_partnership(platform: RunningPlatform) -> None:
    tenant = await course_tenant(platform)
    hosted = course_body(library=tenant.library_a, details={"title": "Digitaal op weg"})
    own_premises = course_body(
        details={"location": {"kind": "partner_premises", "address": "Kanaalweg 1", "place": "Zuilen"}}
    )
    async with platform.client(tenant.partner_b_token) as partner:
        refused = await partner.post("/api/v1/courses", json=hosted)
        at_home = await partner.post("/api/v1/courses", json=own_premises)
    assert refused.status_code == 403, refused.text
    assert "partnership" in refused.json()["detail"]
    assert at_home.status_code == 201, at_home.text

    partnership = await partnership_known_to_courses(platform, tenant, tenant.partner_b, tenant.library_a)
    async with platform.client(tenant.partner_b_token) as partner:
        created = await partner.post("/api/v1/courses", json=hosted)
        assert created.status_code == 201, created.text
        # A partnership with library A opens nothing at library B.
        elsewhere = await partner.post("/api/v1/courses", json={**hosted, "library": tenant.library_b})
        assert elsewhere.status_code == 403

    async with platform.client(tenant.staff_a) as library:
        assert (await library.post(f"/api/v1/partnerships/{partnership}/end", json={})).status_code == 200
    await partnership_state_known(platform, partnership, ended=True)
    async with platform.client(tenant.partner_b_token) as partner:
        unpublished = await partner.post(f"/api/v1/courses/{created.json()['id']}/publish")
        after_the_end = await partner.post("/api/v1/courses", json=hosted)
    assert unpublished.status_code == 403, unpublished.text
    assert after_the_end.status_code == 403
