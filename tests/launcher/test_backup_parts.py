"""The parts of backup and restore on a real PostgreSQL: one snapshot dumped and loaded with its counts checked,
outbox and feeds marked to be published again, secrets sealed under a passphrase and never replaced or invented,
a changed file or a used database refused."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet

from launcher.backup import (
    DUMP,
    SECRETS,
    BackupError,
    backup,
    current_secrets,
    fingerprint,
    install_secrets,
    read_backup,
    republish,
    restore_database,
    seal,
    sha256_of,
    unseal,
)
from launcher.cli import main
from services.partners.app import build as build_partners
from services.referrals.app import build as build_referrals
from shared.db import migrate
from shared.ids import new_id
from shared.personal_data import Sealer
from tests.fixtures.platform import make_settings
from tests.servers import create_database, drop_database

PASSPHRASE = "a passphrase kept elsewhere"
VALUES = {name: f"{name}-value-{i}" for i, name in enumerate(SECRETS)}


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def databases(postgres_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A migrated database with events, feed entries and inbox rows in it, and an empty one to restore into."""
    source, target = await create_database(postgres_url), await create_database(postgres_url)
    settings = make_settings(nats_url, source, tmp_path)
    for name, build in (("partners", build_partners), ("referrals", build_referrals)):
        runtime = build(settings)
        await migrate(runtime.engine, name, runtime.migrations)
        await runtime.engine.dispose()
    conn = await asyncpg.connect(plain(source))
    try:
        insert = (
            "INSERT INTO referrals.outbox (event_id, subject, event_type, payload, created_at, sent_at) "
            "VALUES ($1, 'events.referrals.x', 'x', '{}', now() - make_interval(mins => $2), "
            "CASE WHEN $3 THEN now() END)"
        )
        for minutes_ago, sent in ((120, True), (60, True), (1, True), (0, False)):
            await conn.execute(insert, new_id(), minutes_ago, sent)
        await conn.execute("INSERT INTO referrals.inbox (consumer, event_id) VALUES ('referrals-x', $1)", new_id())
    finally:
        await conn.close()
    yield source, target
    for url in (source, target):
        await drop_database(postgres_url, url)


async def outbox_sent(database_url: str) -> list[bool]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch("SELECT sent_at IS NOT NULL AS sent FROM referrals.outbox ORDER BY position")
    finally:
        await conn.close()
    return [row["sent"] for row in rows]


async def test_a_backup_is_restored_with_its_counts_and_every_event_marked_to_publish_again(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source, target = databases
    manifest = await asyncio.to_thread(backup, source, tmp_path / "backup", VALUES, PASSPHRASE)
    assert manifest["schemas"] == ["partners", "referrals"]
    assert manifest["tables"]["referrals.outbox"] == 4 and manifest["tables"]["referrals.inbox"] == 1
    assert manifest["database"].startswith("postgresql") and manifest["secrets"].keys() == VALUES.keys()
    # For its operators alone: the dump holds pseudonyms, contacts and sealed personal data (pg_dump wrote it 0644).
    assert stat.S_IMODE((tmp_path / "backup").stat().st_mode) == 0o700
    for written in ("secrets.sealed", DUMP, "manifest.json"):
        assert stat.S_IMODE((tmp_path / "backup" / written).stat().st_mode) == 0o600, written

    read, values = read_backup(tmp_path / "backup", PASSPHRASE)
    assert values == VALUES and read == manifest
    marked = await restore_database(target, tmp_path / "backup", manifest)
    assert marked["referrals events"] == 3 and marked["partners events"] == 0
    assert await outbox_sent(target) == [False, False, False, False]
    assert await outbox_sent(source) == [True, True, True, False]  # the original is untouched

    with pytest.raises(BackupError, match="already holds partners, referrals: a restore goes to a fresh database"):
        await restore_database(target, tmp_path / "backup", manifest)
    with pytest.raises(BackupError, match="is not empty"):
        await asyncio.to_thread(backup, source, tmp_path / "backup", VALUES, PASSPHRASE)


async def test_republish_since_a_time_marks_only_what_was_written_since(databases: tuple[str, str]) -> None:
    source, _ = databases
    conn = await asyncpg.connect(plain(source))
    try:
        since = await conn.fetchval("SELECT now() - interval '90 minutes'")
    finally:
        await conn.close()
    marked = await republish(source, since)
    assert marked["referrals events"] == 2 and marked["feed entries"] == 0
    assert await outbox_sent(source) == [True, False, False, False]


def test_a_changed_file_or_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / DUMP).write_bytes(b"PGDMP dump")
    (folder / "secrets.sealed").write_text(json.dumps(seal(VALUES, PASSPHRASE)))
    manifest = {
        "format": 1,
        "secrets": {name: fingerprint(value) for name, value in VALUES.items()},
        "files": {DUMP: sha256_of(folder / DUMP), "secrets.sealed": sha256_of(folder / "secrets.sealed")},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert read_backup(folder, PASSPHRASE)[1] == VALUES
    with pytest.raises(BackupError, match="the passphrase does not open"):
        read_backup(folder, "another passphrase entirely")
    (folder / DUMP).write_bytes(b"PGDMP dump, changed")
    with pytest.raises(BackupError, match="not the file the backup wrote"):
        read_backup(folder, PASSPHRASE)


def test_the_secrets_are_sealed_under_the_passphrase_and_nothing_else_opens_them() -> None:
    sealed = seal(VALUES, PASSPHRASE)
    assert not any(value in json.dumps(sealed) for value in VALUES.values())
    assert unseal(sealed, PASSPHRASE) == VALUES
    with pytest.raises(BackupError, match="does not open"):
        unseal(sealed, PASSPHRASE + " ")
    with pytest.raises(BackupError, match="shorter than 12"):
        seal(VALUES, "short")


def test_a_backup_takes_the_keys_the_platform_uses_and_never_makes_new_ones(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="neither PARTNERNET_JWT_SECRET nor"):
        current_secrets(tmp_path, {})
    assert not (tmp_path / "secrets").exists()
    (tmp_path / "secrets").mkdir()
    for name in SECRETS:
        (tmp_path / "secrets" / name).write_text(f"file {name}\n")
    found = current_secrets(tmp_path, {"PARTNERNET_ENCRYPTION_KEY": "from the variable"})
    assert found["encryption-key"] == "from the variable" and found["jwt-secret"] == "file jwt-secret"


def test_a_restore_never_replaces_keys_that_differ(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="PARTNERNET_ENCRYPTION_KEY is set and differs"):
        install_secrets(VALUES, tmp_path, {"PARTNERNET_ENCRYPTION_KEY": "another key"})
    written = install_secrets(VALUES, tmp_path, {"PARTNERNET_ENCRYPTION_KEY": VALUES["encryption-key"]})
    assert sorted(p.name for p in written) == sorted(SECRETS)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert install_secrets(VALUES, tmp_path, {}) == []  # the same keys again: nothing to do
    (tmp_path / "secrets" / "pseudonym-key").write_text("another platform's key")
    with pytest.raises(BackupError, match="holds another pseudonym-key: restore into a fresh --data-dir"):
        install_secrets(VALUES, tmp_path, {})


def test_the_backup_command_without_the_platforms_keys_says_so_and_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in SECRETS.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))  # main() sets it; this restores it afterwards
    (tmp_path / "passphrase").write_text(PASSPHRASE)
    data_dir = tmp_path / "elsewhere"
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "--data-dir",
                str(data_dir),
                "backup",
                str(tmp_path / "b"),
                "--passphrase-file",
                str(tmp_path / "passphrase"),
            ]
        )
    assert str(exited.value.code).startswith("partnernet backup: neither PARTNERNET_JWT_SECRET nor")
    assert not (data_dir / "secrets").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_a_passphrase_file_that_cannot_be_read_is_named_and_nothing_is_made(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in zip(SECRETS.values(), VALUES.values(), strict=True):
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))  # main() sets it; this restores it afterwards
    data_dir = tmp_path / "data"
    for passphrase_file, wrong in ((tmp_path / "nowhere", "No such file or directory"), (tmp_path, "Is a directory")):
        with pytest.raises(SystemExit) as exited:
            main(
                [
                    "--data-dir",
                    str(data_dir),
                    command,
                    str(tmp_path / "b"),
                    "--passphrase-file",
                    str(passphrase_file),
                ]
            )
        assert (
            str(exited.value.code)
            == f"partnernet {command}: cannot read the passphrase file {passphrase_file}: {wrong}"
        )
    assert not (tmp_path / "b").exists() and not data_dir.exists()


def test_a_backup_into_a_file_or_under_one_is_refused_and_the_file_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in zip(SECRETS.values(), VALUES.values(), strict=True):
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))
    (tmp_path / "passphrase").write_text(PASSPHRASE)
    (tmp_path / "notes.txt").write_text("an operator's notes")
    refused = {
        "notes.txt": f"{tmp_path / 'notes.txt'} is not a directory: a backup goes into a new directory",
        "notes.txt/backup": (
            f"cannot write a backup to {tmp_path / 'notes.txt' / 'backup'}: Not a directory "
            f"({tmp_path / 'notes.txt' / 'backup.partial'})"
        ),
    }
    for target, message in refused.items():
        with pytest.raises(SystemExit) as exited:
            main(
                [
                    "--data-dir",
                    str(tmp_path / "data"),
                    "backup",
                    str(tmp_path / target),
                    "--passphrase-file",
                    str(tmp_path / "passphrase"),
                ]
            )
        assert str(exited.value.code) == f"partnernet backup: {message}"
    assert (tmp_path / "notes.txt").read_text() == "an operator's notes"


@pytest.fixture
async def sealed_with_an_old_key(postgres_url: str) -> AsyncIterator[tuple[str, str]]:
    """A database whose referrals hold a value sealed with one key; that key (as the services had it)."""
    old_key = Fernet.generate_key().decode()
    database = await create_database(postgres_url)
    conn = await asyncpg.connect(plain(database))
    try:
        await conn.execute("CREATE SCHEMA referrals")
        await conn.execute("CREATE TABLE referrals.referrals (id uuid PRIMARY KEY, participant_sealed bytea)")
        sealed = Sealer(old_key).seal({"name": "Fatima"})
        await conn.execute("INSERT INTO referrals.referrals VALUES ($1, NULL), ($2, $3)", new_id(), new_id(), sealed)
    finally:
        await conn.close()
    yield database, old_key
    await drop_database(postgres_url, database)


async def test_a_backup_whose_key_does_not_open_the_personal_data_is_refused_and_writes_nothing(
    sealed_with_an_old_key: tuple[str, str], tmp_path: Path
) -> None:
    """An embedded platform whose key was rotated with the variable keeps the old one in its file: a backup run
    without the variable carried a key that opened nothing, found out only at the restore."""
    database, old_key = sealed_with_an_old_key
    new_key = Fernet.generate_key().decode()
    for wrong in (new_key, "not a Fernet key at all"):
        with pytest.raises(BackupError, match=r"does not open the personal data in referrals\.referrals"):
            await asyncio.to_thread(
                backup, database, tmp_path / "backup", VALUES | {"encryption-key": wrong}, PASSPHRASE
            )
        assert not (tmp_path / "backup").exists() and not (tmp_path / "backup.partial").exists()
    # Mid-rotation, the new key first and the old one still there: it opens, and the backup is taken.
    keys = VALUES | {"encryption-key": f"{new_key},{old_key}"}
    manifest = await asyncio.to_thread(backup, database, tmp_path / "backup", keys, PASSPHRASE)
    assert manifest["tables"] == {"referrals.referrals": 2}


async def test_a_restore_refused_leaves_no_keys_in_the_data_directory(
    databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _ = databases
    await asyncio.to_thread(backup, source, tmp_path / "backup", VALUES, PASSPHRASE)
    for variable in SECRETS.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PARTNERNET_DATA_DIR", str(tmp_path))  # main() sets it; this restores it afterwards
    monkeypatch.setenv("DATABASE_URL", source)  # a database a platform already runs on: refused
    (tmp_path / "passphrase").write_text(PASSPHRASE)
    data_dir = tmp_path / "data"
    restore = ["restore", str(tmp_path / "backup"), "--passphrase-file", str(tmp_path / "passphrase")]
    with pytest.raises(SystemExit) as exited:
        await asyncio.to_thread(main, ["--data-dir", str(data_dir), *restore])
    assert "already holds partners, referrals: a restore goes to a fresh database" in str(exited.value.code)
    assert list((data_dir / "secrets").iterdir()) == [], "the backup's keys went again with the refusal"
