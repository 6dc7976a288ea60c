"""The bodies of referral requests the tests send: a partner's referral to a library, a library's to a partner, and
the participant's consent each carries."""

from __future__ import annotations

from typing import Any

ALL_SHARED = ["contact_details", "reason", "outcome"]


def consent_body(*, library: str | None = None, partner_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Consent given to the receiving party of a referral: the library (a partner's referral), or a partner."""
    party = {"library": library} if library is not None else {"partner_id": partner_id}
    consent: dict[str, Any] = {
        "given_at": "2026-01-10T10:00:00Z",
        "given_to": [party],
        "shares": ALL_SHARED,
        "purpose": "warme doorverwijzing naar de bibliotheek voor taal en solliciteren",
        "valid_until": "2099-01-10",
    }
    return consent | overrides


def to_partner_body(library: str, receiving_partner_id: str, **overrides: Any) -> dict[str, Any]:
    """The library refers to a partner: the partner receives, and the consent names it."""
    body = referral_body(library, receiving_partner_id, consent=consent_body(partner_id=receiving_partner_id))
    del body["referring_partner_id"]
    body["receiving_partner_id"] = receiving_partner_id
    return body | overrides


def referral_body(library: str, partner_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "library": library,
        "referring_partner_id": partner_id,
        "contact_person": {"name": "Jan de Consulent", "email": "jan@werkplein.example"},
        "participant": {"name": "Fatima El Amrani", "birth_date": "1984-03-02", "phone": "0612345678"},
        "needs": [{"area": "language", "level": "A2"}, {"area": "job_seeking"}],
        "reason": "Wil solliciteren; Nederlands lezen en schrijven gaat nog moeizaam",
        "preferred_channel": "phone",
        "consent": consent_body(library=library),
    }
    body.update(overrides)
    return body
