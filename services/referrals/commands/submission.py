"""Submitting a referral, in either direction: a partner to a library, or a library to a partner."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from services.referrals import domain
from services.referrals.blind_index import BlindIndex
from services.referrals.commands.duplicates import possible_duplicates, warnings_as_written
from services.referrals.commands.policy import policy_of
from services.referrals.domain import consent as consent_rules
from services.referrals.queries import referral as views
from services.referrals.queries.duplicates import with_duplicates
from services.referrals.store.personal_data import ParticipantVault
from services.referrals.store.submission import OUTBOX_CHANNEL, submission_context, write_submission
from shared.contracts import EventData
from shared.contracts.referrals.api.referrals import ReferralStatus, ReferralView, SubmitReferral
from shared.contracts.referrals.events import ReferralSubmitted, ReferralSubmittedV2
from shared.ids import new_id
from shared.outbox import note_outbox_write, outbox_entry
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def submit_referral(
    work: UnitOfWork,
    vault: ParticipantVault,
    actor: Actor,
    command: SubmitReferral,
    *,
    duplicates: BlindIndex | None = None,
) -> ReferralView:
    referral_id = new_id()
    pseudonym = vault.pseudonym(referral_id)
    # No transaction: one lookup, then every write in one statement (store/submission.py), two round trips.
    async with work.direct_statements() as connection:
        now = work.clock.now()
        partner_id = command.referring_partner_id or command.receiving_partner_id
        # The blind index's digests (only these are stored, with the referral), for the duplicates' lookup.
        keys = duplicates.keys_for(command.participant.name, command.participant.birth_date) if duplicates else None
        # One round trip for every check below (store/submission.py submission_context): library, partner, policy,
        # and the open referrals that may be the same person.
        known, candidates = await submission_context(connection, command.library, partner_id, referral_id, keys)
        library_municipality = known.library_municipality
        domain.check_may_submit(
            actor,
            library=command.library,
            library_municipality=library_municipality,
            referring_partner_id=command.referring_partner_id,
            receiving_partner_id=command.receiving_partner_id,
            partner_municipality=known.partner_municipality,
            partner_status=domain.PartnerStatus(known.partner_status or domain.PartnerStatus.ACTIVE.value),
            partnered=bool(known.partnered),
            arrival=command.arrival,
        )
        assert library_municipality is not None
        parties = domain.Parties(
            library=command.library,
            municipality=library_municipality,
            referring_partner_id=command.referring_partner_id,
            receiving_partner_id=command.receiving_partner_id,
        )
        consent = consent_rules.check_consent(command.consent, parties, now)
        policy = policy_of(known)
        respond_by = policy.respond_by(now)
        referral: dict[str, Any] = {
            "id": referral_id,
            "library": command.library,
            "municipality": library_municipality,
            "referring_partner_id": command.referring_partner_id,
            "referring_library": parties.referring_library,
            "receiving_partner_id": command.receiving_partner_id,
            "course_id": command.course_id,
            "arrival": command.arrival.value if command.arrival is not None else None,
            "status": ReferralStatus.SUBMITTED.value,
            "participant_pseudonym": pseudonym,
            "participant_sealed": vault.seal(command.participant),
            "needs": msgspec.to_builtins(command.needs),
            "reason": command.reason,
            "preferred_channel": command.preferred_channel.value,
            "contact_person": msgspec.to_builtins(command.contact_person),
            "consent": msgspec.to_builtins(consent),
            "consent_valid_until": consent.valid_until,
            "submitted_at": now,
            "updated_at": now,
            "version": 1,
            "respond_by": respond_by,
            "expires_at": policy.expires_at(now),
        }
        history: dict[str, Any] = {
            "status": ReferralStatus.SUBMITTED.value,
            "at": now,
            "actor": actor.subject,
            "step": "submit",
            "version": 1,
            "details": {
                "direction": parties.direction.value,
                "respond_by": respond_by.isoformat(),
                **({"arrival": command.arrival.value} if command.arrival is not None else {}),
            },
        }
        event: EventData
        if command.referring_partner_id is not None:
            event = ReferralSubmitted(
                referral_id=referral_id,
                participant_pseudonym=pseudonym,
                referring_partner_id=command.referring_partner_id,
                library=command.library,
                municipality=library_municipality,
                needs=command.needs,
                submitted_at=now,
                course_id=command.course_id,
                respond_by=respond_by,
            )
        else:
            event = ReferralSubmittedV2(
                referral_id=referral_id,
                participant_pseudonym=pseudonym,
                referring_partner_id=None,
                receiving_partner_id=command.receiving_partner_id,
                referring_library=parties.referring_library,
                library=command.library,
                municipality=library_municipality,
                needs=command.needs,
                submitted_at=now,
                course_id=command.course_id,
                respond_by=respond_by,
            )
        envelope, event_row = outbox_entry(
            event, clock=work.clock, municipality=library_municipality, library=command.library
        )
        warnings = possible_duplicates(keys, candidates, library=command.library, flagged_at=now) if keys else []
        relay_woken = work.may_wake_relays(connection)
        await write_submission(connection, referral, history, event_row, keys, warnings, relay_woken=relay_woken)
        note_outbox_write(envelope)
        if relay_woken:
            await work.relays_written([OUTBOX_CHANNEL], connection)
    if warnings:
        log.info("possible duplicates flagged", extra={"library": command.library, "count": len(warnings)})
    log.info("referral submitted", extra={"pseudonym": pseudonym, "library": command.library})
    # The answer is built from what was written (no read back). The submitter wrote the personal data itself:
    # echoing it back is not a read of stored data.
    written = views.as_written(referral)
    view = views.referral_view(
        written,
        participant=command.participant,
        history=[views.as_written(history)],
        shown=views.shown_to(actor, written, now),
    )
    return with_duplicates(view, actor, warnings_as_written(referral_id, library_municipality, warnings))
