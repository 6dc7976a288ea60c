"""Settings from the environment: read once per process in the wiring point, typed, and passed in.

Every variable here is documented in the README's table; keep the two in step.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class Settings:
    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    data_dir: Path = Path(".partnernet")
    jwt_secret: str = ""
    encryption_key: str = ""  # Fernet key for participants' personal data (referrals service)
    pseudonym_key: str = ""  # HMAC key for participant pseudonyms
    rpc_timeout_seconds: float = 5.0
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    relay_poll_seconds: float = 1.0
    consumer_max_deliveries: int = 5
    log_level: str = "INFO"
    otel_endpoint: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get("PARTNERNET_DATA_DIR", ".partnernet")).resolve()
        return cls(
            nats_url=env.get("NATS_URL", cls.nats_url),
            database_url=normalise_database_url(env.get("DATABASE_URL", cls.database_url)),
            data_dir=data_dir,
            jwt_secret=env.get("PARTNERNET_JWT_SECRET") or secret_from_data_dir(data_dir, "jwt-secret"),
            encryption_key=env.get("PARTNERNET_ENCRYPTION_KEY")
            or secret_from_data_dir(data_dir, "encryption-key", fernet=True),
            pseudonym_key=env.get("PARTNERNET_PSEUDONYM_KEY") or secret_from_data_dir(data_dir, "pseudonym-key"),
            rpc_timeout_seconds=float(env.get("PARTNERNET_RPC_TIMEOUT", cls.rpc_timeout_seconds)),
            gateway_host=env.get("PARTNERNET_HOST", cls.gateway_host),
            gateway_port=int(env.get("PARTNERNET_PORT", cls.gateway_port)),
            relay_poll_seconds=float(env.get("PARTNERNET_RELAY_POLL", cls.relay_poll_seconds)),
            consumer_max_deliveries=int(env.get("PARTNERNET_MAX_DELIVERIES", cls.consumer_max_deliveries)),
            log_level=env.get("PARTNERNET_LOG_LEVEL", cls.log_level).upper(),
            otel_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        )


def normalise_database_url(url: str) -> str:
    """Accept the plain `postgresql://` form operators paste, and use the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def secret_from_data_dir(data_dir: Path, name: str, *, fernet: bool = False) -> str:
    """A secret made once and kept in the data directory, so tokens and ciphertexts survive restarts."""
    path = data_dir / "secrets" / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() if fernet else secrets.token_urlsafe(32)
    # Two processes may start at once: the first writer wins and everyone reads its value.
    try:
        with open(path, "x") as handle:
            handle.write(value)
        path.chmod(0o600)
    except FileExistsError:
        pass
    return path.read_text().strip()
