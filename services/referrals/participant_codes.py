"""The participant's personal code: what it looks like, how it is kept (a keyed hash only), when it works, and
what the participant's page may show. Pure: no I/O, no clock.

The code is a credential on paper: 8 characters from an alphabet without look-alikes (no 0/O/Q, 1/I/L, 2/Z,
5/S, 6/G, 8/B, U/V), shown as two groups of four. 20^8 ≈ 2.6·10^10 codes, so hitting one of a few thousand
open referrals takes ~10^7 tries on average, against a gateway that locks a client out after a few wrong
ones. Only an HMAC of the code is stored, so a copy of the database opens no page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from services.referrals.domain.consent import ACCEPTED_ONWARDS
from shared.contracts.referrals.api.participant_page import RIGHTS, ParticipantChangeKind
from shared.contracts.referrals.api.referrals import ReferralDirection, ReferralStatus
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.tenancy import Actor, Role

ALPHABET = "ACDEFHJKMNPRTWXY3479"
CODE_LENGTH = 8


def make_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def shown(code: str) -> str:
    """How the code is printed and typed: `ABCD-EFGH`."""
    return f"{code[:4]}-{code[4:]}"


def normalise(typed: str) -> str | None:
    """What a participant typed, as a code: case, spaces and dashes do not matter; None if it cannot be one."""
    plain = "".join(c for c in typed.upper() if c not in " -_.")
    if len(plain) != CODE_LENGTH or any(c not in ALPHABET for c in plain):
        return None
    return plain


class CodeHasher:
    """Keyed, so the stored digests cannot be brute-forced offline (2·10^11 codes hash in minutes)."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("no key for participant codes is configured (PARTNERNET_PSEUDONYM_KEY)")
        self._key = hmac.new(key.encode(), b"partnernet participant code v1", hashlib.sha256).digest()

    def digest(self, code: str) -> bytes:
        return hmac.new(self._key, code.encode(), hashlib.sha256).digest()


# A code can be made from acceptance on (the intake is planned then, or soon), while the referral is open and
# once it has completed or the person did not come: the page then shows what is held and takes their rights. Not
# for a referral declined, withdrawn or expired, which may never have reached the library's acceptance.
CODE_STATUSES = ACCEPTED_ONWARDS


def check_may_issue(actor: Actor) -> None:
    """Checked before the referral is looked up."""
    if actor.role is not Role.STAFF:
        raise Forbidden("only staff of the library give a participant a personal code")


def check_may_issue_for(actor: Actor, *, library: str, status: ReferralStatus, anonymised: bool) -> None:
    if actor.library != library:
        raise NotFound("referral not found")  # another library's referral: as if it did not exist
    if anonymised or status not in CODE_STATUSES:
        raise Conflict(
            f"a personal code is given once the referral is accepted, while the library holds the person's data; "
            f"it is {status.value}",
            state=status.value,
        )


def code_works(anonymised: bool) -> bool:
    """The code opens the page for as long as the library holds the person's data: after the referral closes too
    (what is held, who sees it, until when; and their rights), until the data is erased, on request or when the
    library's retention has passed. Then it shows only that the data was erased."""
    return not anonymised


# While the intake is still to come: after it was held there is no appointment to move or to cancel (asked then,
# staff found an 'another day' request on a referral already enrolled).
BEFORE_THE_INTAKE = frozenset({ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.INTAKE_PLANNED})


def may_ask(kind: ParticipantChangeKind, status: ReferralStatus) -> bool:
    """Their rights they may ask for while their data is held; a change of the appointment only before it was held."""
    return kind in RIGHTS or status in BEFORE_THE_INTAKE


def check_contact_phone(phone: str | None) -> str | None:
    if phone is None:
        return None
    digits = [c for c in phone if c.isdigit()]
    if not 8 <= len(digits) <= 15 or any(not (c.isdigit() or c in " +-()") for c in phone):
        raise InvalidInput("the library's phone number for participants must be a phone number, e.g. 010 123 45 67")
    return phone.strip()


def receiver_kind(direction: ReferralDirection) -> str:
    """Whom the participant was referred to: the library itself, or the partner the library referred them to."""
    return "partner" if direction is ReferralDirection.TO_PARTNER else "library"
