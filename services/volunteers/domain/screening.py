"""Screening: the certificate of conduct (VOG): requested, received with its date, valid until it expires.

A renewal is a new request while the old certificate still counts; the new one takes over once received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.volunteers.domain.training import add_months
from shared.contracts.volunteers.api.volunteers import CertificateStatus, CertificateView
from shared.errors import IllegalTransition, InvalidInput


@dataclass(frozen=True)
class Certificate:
    requested_at: datetime
    received_at: datetime | None = None
    issued_on: date | None = None
    valid_until: date | None = None

    @property
    def received(self) -> bool:
        return self.issued_on is not None

    def valid_on(self, day: date) -> bool:
        return (
            self.issued_on is not None
            and self.issued_on <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


def valid_certificate(certificates: Sequence[Certificate], today: date) -> Certificate | None:
    """The certificate that counts today: of those valid, the one that holds longest."""
    valid = [c for c in certificates if c.valid_on(today)]
    return max(valid, key=lambda c: (c.valid_until or date.max, c.requested_at)) if valid else None


def open_request(certificates: Sequence[Certificate]) -> Certificate | None:
    pending = [c for c in certificates if not c.received]
    return max(pending, key=lambda c: c.requested_at) if pending else None


def check_may_request(certificates: Sequence[Certificate]) -> None:
    if open_request(certificates) is not None:
        raise IllegalTransition(
            "a certificate of conduct was requested already and has not been received yet",
            state=CertificateStatus.REQUESTED.value,
            step="request_certificate",
        )


@dataclass(frozen=True)
class ScreeningPolicy:
    """A library's rules for certificates of conduct (its volunteers policy)."""

    validity_months: int  # how long one counts after its issue date, where the receipt names no end
    max_age_months: int  # how long before it was requested it may have been issued


# A VOG is asked for anew, not dug out of a drawer: Justis and most organisations take one issued within the last
# three months. Libraries commonly screen again every three years.
DEFAULT_SCREENING = ScreeningPolicy(validity_months=36, max_age_months=3)


def counts_until(issued_on: date, valid_until: date | None, policy: ScreeningPolicy) -> date:
    """The last day a received certificate counts: as the receipt says, else the library's validity."""
    if valid_until is not None:
        return valid_until
    return add_months(issued_on, policy.validity_months) - timedelta(days=1)


def check_receipt(
    certificates: Sequence[Certificate],
    issued_on: date,
    valid_until: date | None,
    today: date,
    *,
    requested_on: date,
    policy: ScreeningPolicy = DEFAULT_SCREENING,
) -> None:
    """`requested_on`: the local day of the open request it completes."""
    if open_request(certificates) is None:
        raise IllegalTransition(
            "no certificate of conduct was requested, so none can be received",
            state="not_requested",
            step="receive_certificate",
        )
    if issued_on > today:
        raise InvalidInput("a certificate of conduct cannot be issued in the future")
    if valid_until is not None and valid_until < issued_on:
        raise InvalidInput("a certificate of conduct cannot expire before it was issued")
    oldest = add_months(requested_on, -policy.max_age_months)
    if issued_on < oldest:
        raise InvalidInput(
            f"the certificate of conduct was issued on {issued_on}, more than {policy.max_age_months} months before "
            f"it was requested on {requested_on}: the library's policy asks for one issued since {oldest}",
            issued_on=issued_on.isoformat(),
            issued_since=oldest.isoformat(),
        )


def certificate_view(certificates: Sequence[Certificate], today: date) -> CertificateView | None:
    if not certificates:
        return None
    valid = valid_certificate(certificates, today)
    pending = open_request(certificates)
    if valid is not None:
        return CertificateView(
            status=CertificateStatus.VALID,
            requested_at=valid.requested_at,
            received_at=valid.received_at,
            issued_on=valid.issued_on,
            valid_until=valid.valid_until,
            renewal_requested_at=pending.requested_at if pending else None,
        )
    if pending is not None:
        return CertificateView(status=CertificateStatus.REQUESTED, requested_at=pending.requested_at)
    latest = max(certificates, key=lambda c: c.requested_at)
    return CertificateView(
        status=CertificateStatus.EXPIRED,
        requested_at=latest.requested_at,
        received_at=latest.received_at,
        issued_on=latest.issued_on,
        valid_until=latest.valid_until,
    )


def certificate_problem(certificates: Sequence[Certificate], today: date) -> str | None:
    """Why there is no valid certificate of conduct today, or None when there is one."""
    if valid_certificate(certificates, today) is not None:
        return None
    received = [c for c in certificates if c.issued_on is not None and c.issued_on <= today]
    if received:
        latest = max(received, key=lambda c: c.valid_until or date.max)
        return f"the certificate of conduct was valid until {latest.valid_until}"
    later = [c.issued_on for c in certificates if c.issued_on is not None]
    if later:
        return f"the certificate of conduct was issued on {min(later)}, after {today}"
    if certificates:
        return "the certificate of conduct was requested but has not been received"
    return "no certificate of conduct has been requested"
