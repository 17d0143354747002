"""Never lose data: `make backup` then `make restore` into a fresh database gives the
same rows, table by table (row counts and checksums), and the tools refuse what would
do harm."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from iopclinic import backup
from iopclinic.models import AccessEvent
from tests.factories import ClientFactory, EnrollmentFactory

ROOT = Path(__file__).resolve().parents[2]


def url_of(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{name}"
    )


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME'].removeprefix('test_')}_restore"
    server = url_of("postgres")
    with psycopg.connect(backup.libpq_url(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url_of(name)
    with psycopg.connect(backup.libpq_url(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_make_backup_then_make_restore_gives_identical_tables(
    tmp_path: Path, fresh_database: str, superuser: Any
) -> None:
    for _ in range(3):
        EnrollmentFactory(client=ClientFactory())
    AccessEvent.record(
        user=superuser,
        action=AccessEvent.Action.VIEW,
        app_label="intake",
        model_name="client",
        object_id="1",
        outcome=AccessEvent.Outcome.SHOWN,
    )
    source = url_of(connection.settings_dict["NAME"])

    made = make("backup", BACKUP_DIR=str(tmp_path), DATABASE_URL=source)
    assert made.returncode == 0, made.stderr
    (dump_file,) = tmp_path.glob("*.dump")
    assert dump_file.stat().st_mode & 0o077 == 0  # owner-only: client records
    restored = make(
        "restore", f"FILE={dump_file}", f"TARGET_DATABASE_URL={fresh_database}"
    )
    assert restored.returncode == 0, restored.stderr
    assert "identical row counts and checksums" in restored.stdout

    before, after = backup.checksums(source), backup.checksums(fresh_database)
    assert before == after
    assert before["public.intake_client"]["rows"] == 3
    # The view above and the new staff accounts' "new account" lines (signals.py).
    assert before["public.iopclinic_accessevent"]["rows"] == AccessEvent.objects.count()
    assert AccessEvent.objects.filter(action=AccessEvent.Action.VIEW).count() == 1
    assert len(before) > 50  # every table and sequence, not a sample


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(
    tmp_path: Path, fresh_database: str
) -> None:
    ClientFactory()
    source = url_of(connection.settings_dict["NAME"])
    dump_file = backup.dump(source, tmp_path)
    backup.restore(dump_file, fresh_database)

    with pytest.raises(backup.BackupError, match="already has"):
        backup.restore(dump_file, fresh_database)
    # FORCE=1 replaces what the backup holds, and checks it again.
    assert backup.restore(dump_file, fresh_database, force=True) > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_changed_row_fails_the_verification(
    tmp_path: Path, fresh_database: str
) -> None:
    ClientFactory()
    dump_file = backup.dump(url_of(connection.settings_dict["NAME"]), tmp_path)
    manifest = Path(f"{dump_file}{backup.MANIFEST_SUFFIX}")
    text = manifest.read_text()
    tables = backup.json.loads(text)
    tables["tables"]["public.intake_client"]["md5"] = "0" * 32
    manifest.write_text(backup.json.dumps(tables))

    with pytest.raises(backup.BackupError, match="intake_client"):
        backup.restore(dump_file, fresh_database)


def test_backup_refuses_sqlite_with_a_clear_message(tmp_path: Path) -> None:
    result = make(
        "backup", BACKUP_DIR=str(tmp_path), DATABASE_URL="sqlite:///var/x.sqlite3"
    )
    assert result.returncode != 0
    assert "SQLite, the demo database" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_restore_says_how_to_call_it() -> None:
    result = make("restore")
    assert result.returncode != 0
    assert "usage: make restore FILE=" in result.stdout


def test_compare_names_each_difference() -> None:
    expected = {"a": {"rows": 1, "md5": "x"}, "b": {"rows": 2, "md5": "y"}}
    found = {"a": {"rows": 1, "md5": "x"}, "c": {"rows": 0, "md5": ""}}
    assert backup.compare(expected, found) == [
        "b: missing after the restore",
        "c: not in the backup",
    ]


@pytest.mark.postgres
def test_point_in_time_recovery_rehearsal_passes() -> None:
    """`make pitr-rehearsal`: a throwaway cluster recovered to a chosen moment gets
    back every row written before it and none of the mistake after it."""
    result = make("pitr-rehearsal")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PITR rehearsal passed" in result.stdout
