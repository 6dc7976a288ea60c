"""The gateway's settings come from the environment, with defaults that work without any."""

from __future__ import annotations

from pathlib import Path

from shared.settings import Settings


def test_oidc_rate_limit_and_api_key_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PARTNERNET_DATA_DIR": str(tmp_path),
            "PARTNERNET_OIDC_ISSUER": "https://login.example/realms/bieb",
            "PARTNERNET_OIDC_JWKS_URL": "https://login.example/realms/bieb/certs",
            "PARTNERNET_OIDC_AUDIENCE": "partnernet",
            "PARTNERNET_OIDC_ROLE_CLAIM": "realm_access.roles",
            "PARTNERNET_OIDC_LIBRARY_CLAIM": "vestiging",
            "PARTNERNET_RATE_LIMIT": "120",
            "PARTNERNET_API_KEY_CACHE": "5",
            "PARTNERNET_MAX_BODY_BYTES": "65536",
        }
    )
    assert settings.oidc_issuer == "https://login.example/realms/bieb"
    assert settings.oidc_jwks_url == "https://login.example/realms/bieb/certs"
    assert settings.oidc_audience == "partnernet"
    assert (settings.oidc_role_claim, settings.oidc_library_claim) == ("realm_access.roles", "vestiging")
    assert settings.oidc_municipality_claim == "municipality"
    assert (settings.rate_limit_per_minute, settings.api_key_cache_seconds, settings.max_body_bytes) == (
        120,
        5.0,
        65536,
    )


def test_without_an_issuer_only_the_embedded_tokens_count(tmp_path: Path) -> None:
    settings = Settings.from_env({"PARTNERNET_DATA_DIR": str(tmp_path)})
    assert settings.oidc_issuer is None
    assert settings.rate_limit_per_minute == 600 and settings.api_key_cache_seconds == 30.0
