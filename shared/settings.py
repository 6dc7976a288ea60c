"""Settings from the environment: read once per process in the wiring point, typed, and passed in.

Every variable here is documented in the README's table; keep the two in step.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Settings:
    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    # The directory of the Unix socket of the same PostgreSQL server (`partnernet up` sets it for its embedded
    # one): the services' pools connect there instead of over loopback TCP, which costs both ends more per
    # statement. Unset: DATABASE_URL's host and port.
    database_socket: str | None = None
    data_dir: Path = Path(".partnernet")
    jwt_secret: str = ""
    encryption_key: str = ""  # Fernet key for participants' personal data (referrals service)
    pseudonym_key: str = ""  # HMAC key for participant pseudonyms
    blind_index_key: str = ""  # HMAC key of the blind index that finds duplicate participants (referrals service)
    rpc_timeout_seconds: float = 5.0
    rpc_concurrency: int = 32  # requests of one operation a service replica handles at once
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    # Gateway processes `partnernet up` starts on the one port (SO_REUSEPORT: the kernel spreads connections over
    # them). The gateway keeps no state of its own but its per-caller rate-limit counts, which each counts alone.
    gateway_workers: int = 2
    relay_poll_seconds: float = 1.0
    consumer_max_deliveries: int = 5
    log_level: str = "INFO"
    otel_endpoint: str | None = None
    stream_replicas: int = 1  # JetStream replicas of every stream: 3 on a three-node cluster
    probe_port: int | None = None  # a service answers /livez and /readyz here (containers); unset: no listener
    # An OpenID Connect issuer beside the embedded one (gateway): tokens whose `iss` is this issuer are
    # verified with the keys of its JWKS (RS256/ES256) and must name the audience.
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None  # unset: discovered from the issuer's /.well-known/openid-configuration
    oidc_audience: str | None = None
    oidc_role_claim: str = "role"  # a dotted path (e.g. `realm_access.roles`); a string or a list of strings
    oidc_municipality_claim: str = "municipality"
    oidc_library_claim: str = "library"
    oidc_partner_claim: str = "partner"
    rate_limit_per_minute: int = 600  # per token subject, API key, or (anonymous) client address
    calendar_sign_ups_per_minute: int = 5  # residents' sign-ups on the public calendar per client address
    api_key_cache_seconds: float = 30.0  # a revoked API key stops working within this time
    stream_recheck_seconds: float = 60.0  # a live stream checks its credential again this often (and on revocation)
    max_body_bytes: int = 1024 * 1024
    max_header_bytes: int = 16 * 1024  # request line and headers together (gateway); beyond is a 431
    # Addresses or networks of the proxies in front of the gateway whose X-Forwarded-For/-Proto it believes.
    trusted_proxies: tuple[str, ...] = ()
    # Partners' webhooks (partners service): tries per delivery, the doubling wait between them (with jitter,
    # capped), the time an endpoint gets to answer, and how often feed entries and deliveries are looked for.
    webhook_max_attempts: int = 8
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_timeout_seconds: float = 10.0
    # Internal targets a webhook may reach all the same (names, addresses, networks): tests, on-premise partners.
    webhook_allowed_targets: tuple[str, ...] = ()
    partner_delivery_poll_seconds: float = 1.0
    # Retention of the plumbing (shared/retention.py): sent outbox rows and delivered webhook deliveries are kept
    # this many days for replays; inbox rows longer, as long as the same event can still arrive again.
    outbox_retention_days: float = 30.0
    inbox_retention_days: float = 90.0
    delivery_retention_days: float = 30.0
    # A partner's feed entries (services/partners/commands/retention.py): a cursor older than this gets a 410.
    feed_retention_days: float = 90.0
    # How long a service keeps an `Idempotency-Key` and its reply (shared/idempotency.py): a retry within it is
    # answered with the first reply, a later one runs as a new request. As long as the gateway's bucket.
    idempotency_retention_hours: float = 24.0
    # An erased participant's (or volunteer's) trail: history and access log, kept this long after the erasure.
    trail_retention_days: float = 365.0
    # Notices by e-mail (partners service): the SMTP server they go through (unset: no notices are written),
    # who they come from, the address of the console their links lead to, and how often a failed send is tried.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"  # none, starttls (upgrade on the port) or tls (implicit TLS, e.g. port 465)
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "partnernet <noreply@partnernet.invalid>"
    public_url: str | None = None  # the console's base URL as people reach it; unset: http://host:port
    mail_max_attempts: int = 8
    mail_retry_base_seconds: float = 30.0
    mail_retry_max_seconds: float = 3600.0
    # `partnernet up` sets this: the Maildir its mail catcher writes, which the console shows to operators.
    mail_catcher_dir: Path | None = None
    # Only `partnernet up --demo` sets this: the console offers the demo's people named in the file to sign in as.
    demo_people_file: Path | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get("PARTNERNET_DATA_DIR", ".partnernet")).resolve()
        return cls(
            nats_url=env.get("NATS_URL", cls.nats_url),
            database_url=normalise_database_url(env.get("DATABASE_URL", cls.database_url)),
            database_socket=env.get("PARTNERNET_DATABASE_SOCKET") or None,
            data_dir=data_dir,
            jwt_secret=env.get("PARTNERNET_JWT_SECRET") or secret_from_data_dir(data_dir, "jwt-secret"),
            encryption_key=env.get("PARTNERNET_ENCRYPTION_KEY")
            or secret_from_data_dir(data_dir, "encryption-key", fernet=True),
            pseudonym_key=env.get("PARTNERNET_PSEUDONYM_KEY") or secret_from_data_dir(data_dir, "pseudonym-key"),
            blind_index_key=env.get("PARTNERNET_BLIND_INDEX_KEY") or secret_from_data_dir(data_dir, "blind-index-key"),
            rpc_timeout_seconds=_number(env, "PARTNERNET_RPC_TIMEOUT", cls.rpc_timeout_seconds, float),
            rpc_concurrency=_number(env, "PARTNERNET_RPC_CONCURRENCY", cls.rpc_concurrency, int),
            gateway_host=env.get("PARTNERNET_HOST", cls.gateway_host),
            gateway_port=_number(env, "PARTNERNET_PORT", cls.gateway_port, int),
            gateway_workers=max(1, _number(env, "PARTNERNET_GATEWAY_WORKERS", cls.gateway_workers, int)),
            relay_poll_seconds=_number(env, "PARTNERNET_RELAY_POLL", cls.relay_poll_seconds, float),
            consumer_max_deliveries=_number(env, "PARTNERNET_MAX_DELIVERIES", cls.consumer_max_deliveries, int),
            log_level=env.get("PARTNERNET_LOG_LEVEL", cls.log_level).upper(),
            otel_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            stream_replicas=_number(env, "PARTNERNET_STREAM_REPLICAS", cls.stream_replicas, int),
            probe_port=_number(env, "PARTNERNET_PROBE_PORT", None, int),
            oidc_issuer=env.get("PARTNERNET_OIDC_ISSUER") or None,
            oidc_jwks_url=env.get("PARTNERNET_OIDC_JWKS_URL") or None,
            oidc_audience=env.get("PARTNERNET_OIDC_AUDIENCE") or None,
            oidc_role_claim=env.get("PARTNERNET_OIDC_ROLE_CLAIM") or cls.oidc_role_claim,
            oidc_municipality_claim=env.get("PARTNERNET_OIDC_MUNICIPALITY_CLAIM") or cls.oidc_municipality_claim,
            oidc_library_claim=env.get("PARTNERNET_OIDC_LIBRARY_CLAIM") or cls.oidc_library_claim,
            oidc_partner_claim=env.get("PARTNERNET_OIDC_PARTNER_CLAIM") or cls.oidc_partner_claim,
            rate_limit_per_minute=_number(env, "PARTNERNET_RATE_LIMIT", cls.rate_limit_per_minute, int),
            calendar_sign_ups_per_minute=_number(
                env, "PARTNERNET_CALENDAR_SIGN_UPS_PER_MINUTE", cls.calendar_sign_ups_per_minute, int
            ),
            api_key_cache_seconds=_number(env, "PARTNERNET_API_KEY_CACHE", cls.api_key_cache_seconds, float),
            stream_recheck_seconds=_number(env, "PARTNERNET_STREAM_RECHECK", cls.stream_recheck_seconds, float),
            max_body_bytes=_number(env, "PARTNERNET_MAX_BODY_BYTES", cls.max_body_bytes, int),
            max_header_bytes=_number(env, "PARTNERNET_MAX_HEADER_BYTES", cls.max_header_bytes, int),
            trusted_proxies=tuple(p.strip() for p in env.get("PARTNERNET_TRUSTED_PROXIES", "").split(",") if p.strip()),
            webhook_max_attempts=_number(env, "PARTNERNET_WEBHOOK_MAX_ATTEMPTS", cls.webhook_max_attempts, int),
            webhook_retry_base_seconds=_number(
                env, "PARTNERNET_WEBHOOK_RETRY_BASE", cls.webhook_retry_base_seconds, float
            ),
            webhook_retry_max_seconds=_number(
                env, "PARTNERNET_WEBHOOK_RETRY_MAX", cls.webhook_retry_max_seconds, float
            ),
            webhook_timeout_seconds=_number(env, "PARTNERNET_WEBHOOK_TIMEOUT", cls.webhook_timeout_seconds, float),
            webhook_allowed_targets=tuple(
                t.strip() for t in env.get("PARTNERNET_WEBHOOK_ALLOWED_TARGETS", "").split(",") if t.strip()
            ),
            partner_delivery_poll_seconds=_number(
                env, "PARTNERNET_DELIVERY_POLL", cls.partner_delivery_poll_seconds, float
            ),
            outbox_retention_days=_number(env, "PARTNERNET_OUTBOX_RETENTION_DAYS", cls.outbox_retention_days, float),
            inbox_retention_days=_number(env, "PARTNERNET_INBOX_RETENTION_DAYS", cls.inbox_retention_days, float),
            delivery_retention_days=_number(
                env, "PARTNERNET_DELIVERY_RETENTION_DAYS", cls.delivery_retention_days, float
            ),
            feed_retention_days=_number(env, "PARTNERNET_FEED_RETENTION_DAYS", cls.feed_retention_days, float),
            idempotency_retention_hours=_number(
                env, "PARTNERNET_IDEMPOTENCY_RETENTION_HOURS", cls.idempotency_retention_hours, float
            ),
            trail_retention_days=_number(env, "PARTNERNET_TRAIL_RETENTION_DAYS", cls.trail_retention_days, float),
            smtp_host=env.get("PARTNERNET_SMTP_HOST") or None,
            smtp_port=_number(env, "PARTNERNET_SMTP_PORT", cls.smtp_port, int),
            smtp_username=env.get("PARTNERNET_SMTP_USERNAME") or None,
            smtp_password=env.get("PARTNERNET_SMTP_PASSWORD") or None,
            smtp_security=smtp_security(env.get("PARTNERNET_SMTP_SECURITY", cls.smtp_security)),
            smtp_timeout_seconds=_number(env, "PARTNERNET_SMTP_TIMEOUT", cls.smtp_timeout_seconds, float),
            mail_from=env.get("PARTNERNET_MAIL_FROM") or cls.mail_from,
            public_url=(env.get("PARTNERNET_PUBLIC_URL") or "").rstrip("/") or None,
            mail_max_attempts=_number(env, "PARTNERNET_MAIL_MAX_ATTEMPTS", cls.mail_max_attempts, int),
            mail_retry_base_seconds=_number(env, "PARTNERNET_MAIL_RETRY_BASE", cls.mail_retry_base_seconds, float),
            mail_retry_max_seconds=_number(env, "PARTNERNET_MAIL_RETRY_MAX", cls.mail_retry_max_seconds, float),
            mail_catcher_dir=Path(env["PARTNERNET_MAIL_CATCHER_DIR"])
            if env.get("PARTNERNET_MAIL_CATCHER_DIR")
            else None,
            demo_people_file=Path(env["PARTNERNET_DEMO_PEOPLE"]) if env.get("PARTNERNET_DEMO_PEOPLE") else None,
        )

    @property
    def console_base_url(self) -> str:
        """Where people reach the console: links in notices lead there."""
        return self.public_url or f"http://{self.gateway_host}:{self.gateway_port}"


class SettingsError(ValueError):
    """A setting from the environment that cannot be used: the message names the variable and its value."""


def _number(env: dict[str, str], name: str, default: Any, kind: type[int] | type[float]) -> Any:
    """The variable's value as a number, its default when unset or empty; SettingsError naming it otherwise (a bare
    `float("abc")` said only "could not convert string to float", not which variable held it)."""
    value = env.get(name)
    if value is None or not value.strip():
        return default
    try:
        return kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name}={value!r} is not {what}") from None


SMTP_SECURITY = ("none", "starttls", "tls")


def smtp_security(value: str) -> str:
    value = value.strip().lower()
    if value not in SMTP_SECURITY:
        raise SettingsError(f"PARTNERNET_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, not {value!r}")
    return value


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
