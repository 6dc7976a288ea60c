"""Tokens an operator mints with `partnernet token`: only for tenants that are registered and belong together,
marked as support work where they are for someone else's role, and each written to the data directory's audit file."""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import os
import time

from shared.servers import connect_database
from shared.settings import Settings
from shared.tenancy import SCOPE_OF_ROLE, SUPPORT_SUBJECT_PREFIX, Actor, Role
from shared.tokens import TokenIssuer

AUDIT_FILE = "audit.jsonl"  # every token `partnernet token` minted: by whom, for whom


def issue_token(
    settings: Settings,
    role: Role,
    *,
    library: str | None,
    partner: str | None,
    municipality: str | None,
    subject: str | None = None,
) -> str:
    """A token as the gateway would accept it: for tenants that are registered and belong together.

    Whoever runs this holds the platform's secret: an operator. A token for someone else's role is support
    work, so it says so (the subject `support:<login>` unless one is given, which the services record in the
    history of what the token does) and every token minted here is written to `<data-dir>/audit.jsonl`.
    """
    try:
        operator = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without USER)
        operator = f"uid-{os.getuid()}"
    if role is not Role.OPERATOR:
        named = {"municipality": municipality, "library": library, "partner": partner}
        # The municipality is found from the library or the partner, so those are what an operator must name.
        needed = [key for key in SCOPE_OF_ROLE[role][0] if key != "municipality"] or ["municipality"]
        if missing := [key for key in needed if named[key] is None]:
            raise SystemExit(f"no token: a {role.value} token needs --{missing[0]}")
        municipality = asyncio.run(_registered_municipality(settings, municipality, library, partner))
    actor = Actor(
        subject=subject or (f"operator:{operator}" if role is Role.OPERATOR else f"{SUPPORT_SUBJECT_PREFIX}{operator}"),
        role=role,
        municipality=municipality,
        library=library,
        partner=partner,
    )
    try:
        token = TokenIssuer(settings.jwt_secret).issue(actor)
    except ValueError as exc:
        raise SystemExit(f"no token: {exc}") from exc
    record = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "minted_by": operator,
        "role": role.value,
        "subject": actor.subject,
        "municipality": municipality,
        "library": library,
        "partner": partner,
        "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
    }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / AUDIT_FILE, "a") as audit:
        audit.write(json.dumps(record) + "\n")
    return token


async def _registered_municipality(
    settings: Settings, municipality: str | None, library: str | None, partner: str | None
) -> str | None:
    """The municipality of the library or partner, which must be registered and the one named, if any."""
    lookups = {
        f"library {library!r}": ("SELECT municipality FROM partners.libraries WHERE slug = $1", library),
        f"partner {partner!r}": ("SELECT municipality FROM partners.partners WHERE id::text = $1", partner),
        f"municipality {municipality!r}": ("SELECT slug FROM partners.municipalities WHERE slug = $1", municipality),
    }
    connection = await connect_database(settings.database_url)  # bounded: a database that is away is said so
    try:
        for what, (query, value) in lookups.items():
            if value is None:
                continue
            found = await connection.fetchval(query, value)
            if found is None:
                raise SystemExit(f"no token: {what} is not registered")
            if municipality is not None and found != municipality:
                raise SystemExit(f"no token: {what} is not in municipality {municipality!r}")
            municipality = str(found)
    finally:
        await connection.close()
    return municipality
