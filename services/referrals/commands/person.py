"""The participant's rights as one person: one export of everything the library holds about them and one erasure
of all their referrals of the library. Their referrals are found through the blind index: the exact digest of
name and birth date (kept while the personal data is held), and the referrals staff linked as the same person.
No name is compared, stored or logged in clear; a name given at the desk is hashed here and forgotten."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from services.referrals import domain, store
from services.referrals.blind_index import BlindIndex
from services.referrals.commands import participant_page
from services.referrals.commands.privacy import erase_one
from services.referrals.queries import referral as views
from services.referrals.queries.participant_view import change_request_view
from services.referrals.store import participants as participant_store
from services.referrals.store import person as person_store
from services.referrals.store.personal_data import ParticipantVault
from shared.contracts.referrals.api.participant_data import AccessPurpose
from shared.contracts.referrals.api.participant_page import ParticipantChangeKind
from shared.contracts.referrals.api.person import (
    AskOtherLibraries,
    OtherLibrariesAsked,
    PartyKind,
    PartyRole,
    PartyView,
    PersonErased,
    PersonExport,
    PersonLookup,
)
from shared.errors import InvalidInput, NotFound
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)


def check_lookup(lookup: PersonLookup) -> None:
    """One referral of the person, or their name with their birth date: a name alone matches too many people."""
    by_name = lookup.name is not None or lookup.birth_date is not None
    if (lookup.referral_id is None) == (not by_name):
        raise InvalidInput("name one referral of the person, or their name and birth date (not both)")
    if by_name and (lookup.name is None or lookup.birth_date is None):
        raise InvalidInput("a person is found by their name together with their birth date")


async def find_person(tx: Transaction, index: BlindIndex, actor: Actor, lookup: PersonLookup) -> set[UUID]:
    """The ids of the person's referrals of the caller's library; NotFound if it holds none."""
    domain.check_may_manage_personal_data(actor)
    check_lookup(lookup)
    library, municipality = actor.library, actor.municipality
    assert library is not None and municipality is not None  # a staff token carries both (shared/tenancy.py)
    if lookup.referral_id is not None:
        anchor = await store.find_referral(tx.session, lookup.referral_id)
        if anchor is None or anchor.library != library:
            raise NotFound(f"referral {lookup.referral_id} not found")
        found = {anchor.id}
        digest = await person_store.exact_digest(tx.session, anchor.id)
        if digest is not None:
            found |= await person_store.with_digest(tx.session, municipality, library, digest)
    else:
        assert lookup.name is not None
        keys = index.keys_for(lookup.name, lookup.birth_date)
        if keys is None:
            raise InvalidInput("the name has no letters to look for")
        found = await person_store.with_digest(tx.session, municipality, library, keys.exact)
        if not found:
            # Says nothing about other libraries: a library answers only for what it holds.
            raise NotFound("the library holds no referral of this person")
    return await person_store.linked_to(tx.session, library, found)


@dataclass
class _Party:
    kind: PartyKind
    id: str
    roles: set[PartyRole] = field(default_factory=set)
    reads: list[datetime] = field(default_factory=list)


def parties_of(rows: list[sa.Row], reads: list[sa.Row], names: dict[str, str]) -> list[PartyView]:
    """Every party of the person's referrals and every organisation the access log shows reading their data."""
    parties: dict[tuple[PartyKind, str], _Party] = {}

    def party(kind: PartyKind, id_: str) -> _Party:
        return parties.setdefault((kind, id_), _Party(kind, id_))

    for row in rows:
        party(PartyKind.LIBRARY, row.library).roles.add(PartyRole.LIBRARY)
        if row.referring_partner_id is not None:
            party(PartyKind.PARTNER, str(row.referring_partner_id)).roles.add(PartyRole.REFERRING)
        if row.receiving_partner_id is not None:
            party(PartyKind.PARTNER, str(row.receiving_partner_id)).roles.add(PartyRole.RECEIVING)
    for read in reads:
        kind = PartyKind.PARTNER if read.actor_role == "partner" else PartyKind.LIBRARY
        reader = party(kind, read.actor_organisation or read.actor)
        reader.reads.append(read.at)
        if not reader.roles:
            reader.roles.add(PartyRole.READER)
    return [
        PartyView(
            kind=p.kind,
            id=p.id,
            name=names.get(p.id),
            roles=sorted(p.roles),
            reads=len(p.reads),
            first_read_at=min(p.reads, default=None),
            last_read_at=max(p.reads, default=None),
        )
        for p in sorted(parties.values(), key=lambda p: (p.kind, p.id))
    ]


async def export_person(
    work: UnitOfWork, vault: ParticipantVault, index: BlindIndex, actor: Actor, lookup: PersonLookup
) -> PersonExport:
    """The right of access for one person: every referral of theirs the library holds, with its personal data,
    history and consent, every read of it, and every party that holds or saw it. The export is itself a read
    of each referral's personal data, so it is in the access log it returns."""
    async with work.transaction() as tx:
        ids = await find_person(tx, index, actor, lookup)
        rows = await person_store.referrals_of(tx.session, ids)
        referrals = []
        for row in rows:
            participant = None
            if row.participant_sealed is not None:
                participant = vault.unseal(row.participant_sealed)
                await views.log_read(tx, row, actor, AccessPurpose.EXPORT)
            history = await store.history_of(tx.session, row.id)
            # Everything held, whoever may see it now: the person's right of access is to what the library holds.
            state = views.consent_state_of(row, tx.clock.now())
            referrals.append(views.referral_view(row, participant=participant, history=history, consent_state=state))
        reads = await person_store.reads_of(tx.session, ids)
        organisations = {read.actor_organisation for read in reads if read.actor_organisation}
        partners = {UUID(p) for p in organisations if _is_uuid(p)}
        partners |= {r.referring_partner_id for r in rows if r.referring_partner_id is not None}
        partners |= {r.receiving_partner_id for r in rows if r.receiving_partner_id is not None}
        libraries = {r.library for r in rows} | {o for o in organisations if not _is_uuid(o)}
        names = await person_store.party_names(tx.session, libraries, partners)
        pseudonyms = {row.id: row.participant_pseudonym for row in rows}
        requests = [
            change_request_view(request, pseudonyms[request.referral_id])
            for request in await participant_store.requests_of(tx.session, ids)
        ]
        exported_at = tx.clock.now()
    log.info("person exported", extra={"library": actor.library, "count": len(rows)})
    return PersonExport(
        library=actor.library or "",
        referrals=referrals,
        access_log=[views.access_entry(read) for read in reads],
        parties=parties_of(rows, reads, names),
        exported_at=exported_at,
        requests=requests,
    )


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


async def ask_other_libraries(
    work: UnitOfWork, index: BlindIndex, actor: Actor, command: AskOtherLibraries
) -> OtherLibrariesAsked:
    """The person asked at the desk for everything across the municipality: the request goes to each other library
    that holds them, as if asked on their page (marked as asked at this library). This library's part its staff
    do themselves, with the export or erasure above."""
    lookup = PersonLookup(referral_id=command.referral_id, name=command.name, birth_date=command.birth_date)
    async with work.transaction() as tx:
        ids = await find_person(tx, index, actor, lookup)
        newest = (await person_store.referrals_of(tx.session, ids))[-1]
        now = tx.clock.now()
        kind = ParticipantChangeKind(command.right.value)
        await participant_page.ask_other_libraries(tx, newest, kind, now, asked_at=actor.library)
    return OtherLibrariesAsked(right=command.right, asked_at=now)


async def erase_person(work: UnitOfWork, index: BlindIndex, actor: Actor, lookup: PersonLookup) -> PersonErased:
    """The right to erasure for one person: each of their referrals of the library is erased as one referral's
    erasure is (an open one withdrawn first; each its own `referral.anonymised` event, with its pseudonym), all
    in one transaction. Erasing again changes nothing: an erased referral is listed as erased before."""
    async with work.transaction() as tx:
        ids = await find_person(tx, index, actor, lookup)
        outcome: dict[bool, list[UUID]] = defaultdict(list)
        for row in await person_store.referrals_of(tx.session, ids, lock=True):
            outcome[await erase_one(tx, actor, row)].append(row.id)
        erased_at = tx.clock.now()
    log.info("person erased", extra={"library": actor.library, "count": len(outcome[True])})
    return PersonErased(
        library=actor.library or "",
        erased=outcome[True],
        already_erased=outcome[False],
        erased_at=erased_at,
    )


BACKFILL_BATCH = 500


class ExactDigests:
    """Gives referrals that hold personal data but no exact digest one: those closed before the exact digest was
    kept with the data lost it to the sweep, and without it their person's export or erasure would not find them.
    Such referrals are marked (migration 016: the old ones, and any whose digest is removed while it holds personal
    data), so a run with nothing due is a probe of an empty partial index. A periodic job (every replica; the
    insert ignores a digest another wrote)."""

    def __init__(self, work: UnitOfWork, vault: ParticipantVault, index: BlindIndex) -> None:
        self.work, self.vault, self.index = work, vault, index

    async def run(self) -> int:
        added = 0
        while True:
            async with self.work.transaction() as tx:
                rows = await person_store.held_without_digest(tx.session, BACKFILL_BATCH)
                if not rows:
                    break
                # Unsealing and hashing a batch is ~45 ms of CPU: in a thread, so that the service's event loop
                # answers meanwhile (measured: the loop's longest pause 10 ms instead of the batch's 67 ms, for
                # 1.4 ms more CPU per batch than unsealing in the loop).
                digests = await asyncio.to_thread(self._digests, rows)
                await person_store.add_exact_digests(tx.session, [row.id for row in rows], digests)
            added += len(digests)
            if len(rows) < BACKFILL_BATCH:
                break
        if added:
            log.info("gave %d referrals that hold personal data their exact digest", added)
        return added

    def _digests(self, rows: list[sa.Row]) -> list[dict[str, object]]:
        digests: list[dict[str, object]] = []
        for row in rows:
            person = self.vault.unseal(row.participant_sealed)
            keys = self.index.keys_for(person.name, person.birth_date)
            if keys is not None:  # no birth date: no digest, as at submission (and no longer due)
                digests.append({"referral_id": row.id, "municipality": row.municipality, "exact": keys.exact})
        return digests
