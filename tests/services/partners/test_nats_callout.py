"""The keys and JWTs of the NATS auth callout, checked against what nats-server expects of them."""

from __future__ import annotations

import pytest

from shared.nats_callout import (
    PREFIX_ACCOUNT,
    PREFIX_SERVER,
    decode_jwt,
    decode_public_key,
    issuer_for,
    platform_credentials,
    server_config,
    without_credentials,
)


def test_the_issuer_is_an_account_nkey_derived_from_the_platform_password() -> None:
    issuer = issuer_for("s3cret")
    assert issuer.public_key == issuer_for("s3cret").public_key
    assert issuer.public_key != issuer_for("other").public_key
    assert issuer.public_key.startswith("A") and len(issuer.public_key) == 56
    prefix, raw = decode_public_key(issuer.public_key)
    assert prefix == PREFIX_ACCOUNT and len(raw) == 32


def test_a_damaged_nkey_is_refused() -> None:
    key = issuer_for("s3cret").public_key
    with pytest.raises(ValueError):
        decode_public_key(key[:-1] + ("A" if key[-1] != "A" else "B"))


def test_signed_jwts_verify_and_a_changed_one_does_not() -> None:
    issuer = issuer_for("s3cret")
    token = issuer.sign({"sub": "UABC", "nats": {"type": "user"}}, issued_at=1_700_000_000)
    claims = decode_jwt(token, issuer_prefix=PREFIX_ACCOUNT)
    assert claims["iss"] == issuer.public_key and claims["iat"] == 1_700_000_000 and claims["jti"]
    header, payload, signature = token.split(".")
    with pytest.raises(ValueError):
        decode_jwt(f"{header}.{payload}.{signature[:-2]}AA")
    with pytest.raises(ValueError, match="kind of key"):
        decode_jwt(token, issuer_prefix=PREFIX_SERVER)


def test_the_platform_user_comes_from_nats_url_and_partners_get_it_without() -> None:
    url = "nats://partnernet:pw123@127.0.0.1:4222,nats://partnernet:pw123@10.0.0.2:4222"
    assert platform_credentials(url) == ("partnernet", "pw123")
    assert platform_credentials("nats://127.0.0.1:4222") is None
    assert without_credentials(url) == ["nats://127.0.0.1:4222", "nats://10.0.0.2:4222"]


def test_the_server_configuration_names_the_issuer_and_exempts_the_platform_user() -> None:
    config = server_config("partnernet", "pw123")
    assert f"issuer: {issuer_for('pw123').public_key}" in config
    assert 'auth_users: [ "partnernet" ]' in config
    assert 'password: "pw123"' in config
