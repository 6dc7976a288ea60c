"""Webhook rules without servers: the retry schedule, signatures and the rotation overlap (targets: test_targets)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.partners.domain.webhooks import signing_secrets
from services.partners.signatures import (
    LEGACY_SIGNATURE_HEADER,
    new_secret,
    sign,
    signature_header,
    signed_headers,
    verify_signature,
)
from shared.retry import RetryPolicy


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base_seconds=10, max_seconds=300)
    assert [policy.delay(n, jitter=0.999999).total_seconds() for n in (1, 2, 3, 4)] == pytest.approx([10, 20, 40, 80])
    assert [policy.delay(n, jitter=0.0).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    assert policy.delay(10, jitter=0.999999).total_seconds() == pytest.approx(300)
    assert not policy.gives_up(7) and policy.gives_up(8)


NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_during_the_overlap_both_secrets_sign_and_after_it_only_the_new_one() -> None:
    assert signing_secrets("new", "old", NOW + timedelta(hours=1), NOW) == ["new", "old"]
    assert signing_secrets("new", "old", NOW, NOW) == ["new"]
    assert signing_secrets("new", None, None, NOW) == ["new"]


BODY = b'{"specversion":"1.0","id":"e1"}'


def test_the_documented_check_accepts_a_delivery_signed_with_the_secret() -> None:
    header = signature_header(["whsec_a"], 1_700_000_000, BODY)
    assert header == f"t=1700000000,v1={sign('whsec_a', 1_700_000_000, BODY)}"
    assert verify_signature("whsec_a", header, BODY, tolerance=300, now=1_700_000_100)


def test_during_a_rotation_either_secret_verifies() -> None:
    header = signature_header(["whsec_new", "whsec_old"], 1_700_000_000, BODY)
    assert verify_signature("whsec_new", header, BODY, now=1_700_000_000)
    assert verify_signature("whsec_old", header, BODY, now=1_700_000_000)
    assert not verify_signature("whsec_other", header, BODY, now=1_700_000_000)


@pytest.mark.parametrize(
    ("header", "body", "now"),
    [
        (signature_header(["whsec_a"], 1_700_000_000, BODY), BODY + b" ", 1_700_000_000),
        (
            signature_header(["whsec_a"], 1_700_000_000, BODY).replace("t=1700000000", "t=1700000001"),
            BODY,
            1_700_000_000,
        ),
        (signature_header(["whsec_a"], 1_700_000_000, BODY), BODY, 1_700_000_301),
        (signature_header(["whsec_a"], 1_700_000_000, BODY)[:-1] + "0", BODY, 1_700_000_000),
        ("v1=abc", BODY, 1_700_000_000),
        ("", BODY, 1_700_000_000),
    ],
    ids=["tampered-body", "tampered-timestamp", "replayed-too-late", "tampered-signature", "no-timestamp", "empty"],
)
def test_the_documented_check_detects_tampering(header: str, body: bytes, now: float) -> None:
    assert not verify_signature("whsec_a", header, body, tolerance=300, now=now)


# --- Standard Webhooks ---------------------------------------------------------------------------


def test_a_delivery_verifies_with_the_standard_webhooks_library_and_a_new_secret() -> None:
    secret, now = new_secret(), int(time.time())
    headers = signed_headers([secret], "e1", now, BODY)

    Webhook(secret).verify(BODY, headers)  # raises when it does not hold
    assert headers["webhook-id"] == "e1" and headers["webhook-timestamp"] == str(now)
    assert verify_signature(secret, headers[LEGACY_SIGNATURE_HEADER], BODY, now=now)  # the old header too
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_during_a_rotation_either_standard_secret_verifies() -> None:
    old, new, now = new_secret(), new_secret(), int(time.time())
    headers = signed_headers([new, old], "e1", now, BODY)

    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, headers)
    Webhook(old).verify(BODY, headers)


def test_an_old_secret_the_standard_cannot_read_still_signs_the_old_header() -> None:
    unreadable = "whsec_" + "a" * 41  # 41 base64 characters: no whole number of bytes
    headers = signed_headers([unreadable], "e1", 1_700_000_000, BODY)

    assert "webhook-signature" not in headers
    assert verify_signature(unreadable, headers[LEGACY_SIGNATURE_HEADER], BODY, now=1_700_000_000)
