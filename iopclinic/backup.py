"""Backups and restores of the PostgreSQL database, checked table by table.

``python -m iopclinic.backup dump`` (``make backup``) writes ``pg_dump``'s custom format
and, from the very same snapshot, a manifest of every table's row count and checksum.
``python -m iopclinic.backup restore`` (``make restore``) loads a dump into an empty
database with ``pg_restore`` in one transaction, then recomputes the checksums there and
fails unless every table matches the manifest. It reads no Django settings, so it runs
wherever the ``pg_dump`` / ``pg_restore`` binaries and the database answer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}
MANIFEST_SUFFIX = ".checksums.json"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


class BackupError(Exception):
    """A refusal or failure to report to the operator, without a traceback."""


def libpq_url(url: str) -> str:
    """The DATABASE_URL as libpq reads it; refuses anything but PostgreSQL."""
    if not url:
        raise BackupError(
            "No database given: set DATABASE_URL (or TARGET_DATABASE_URL) to a "
            "postgres:// URL."
        )
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        raise BackupError(
            "DATABASE_URL is SQLite, the demo database: backups are for PostgreSQL "
            "(make backup runs pg_dump). Set DATABASE_URL to postgres://..."
        )
    if parts.scheme not in POSTGRES_SCHEMES:
        raise BackupError(f"Not a PostgreSQL URL (scheme {parts.scheme!r}).")
    return urlunsplit(("postgresql", *parts[1:]))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client "
            "(Debian: apt-get install postgresql-client) of the server's version."
        )
    return found


def table_checksums(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    """Every table's row count and the md5 of its rows (as text, in C collation
    order), and every sequence's position, keyed by schema-qualified name."""
    tables = conn.execute(
        """
        SELECT n.nspname, c.relname, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'S') AND n.nspname <> ALL(%s)
          AND n.nspname NOT LIKE 'pg_temp%%'
        ORDER BY n.nspname, c.relname
        """,
        [list(SYSTEM_SCHEMAS)],
    ).fetchall()
    result: dict[str, dict[str, Any]] = {}
    for schema, name, kind in tables:
        table = sql.Identifier(schema, name)
        if kind == "S":
            last_value, is_called = conn.execute(
                sql.SQL("SELECT last_value, is_called FROM {}").format(table)
            ).fetchone() or (None, None)
            result[f"{schema}.{name}"] = {"sequence": [last_value, is_called]}
            continue
        rows, digest = conn.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                "ORDER BY t::text COLLATE \"C\"), '')) FROM {} t"
            ).format(table)
        ).fetchone() or (0, "")
        result[f"{schema}.{name}"] = {"rows": rows, "md5": digest}
    return result


def checksums(url: str) -> dict[str, dict[str, Any]]:
    """Checksums of the database at ``url``, in one consistent snapshot."""
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return table_checksums(conn)


def dump(url: str, directory: Path) -> Path:
    """Write a custom-format dump of ``url`` into ``directory`` and its manifest;
    returns the dump's path."""
    source = libpq_url(url)
    pg_dump = _binary("pg_dump")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = directory / f"iopclinic-{_database_name(source)}-{stamp}.dump"
    partial = target.with_suffix(".partial")
    old_umask = os.umask(0o077)  # client records: readable by the owner only
    try:
        with psycopg.connect(source) as conn:
            # pg_dump reads the snapshot this transaction exports, so the manifest
            # describes exactly the rows in the dump, whatever is written meanwhile.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            run = subprocess.run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={row[0]}",
                    f"--file={partial}",
                    f"--dbname={source}",
                ],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                partial.unlink(missing_ok=True)
                raise BackupError(f"pg_dump failed:\n{run.stderr.strip()}")
            manifest = {
                "database": _database_name(source),
                "taken_at": stamp,
                "tables": table_checksums(conn),
            }
        partial.rename(target)
        Path(f"{target}{MANIFEST_SUFFIX}").write_text(
            json.dumps(manifest, indent=1, sort_keys=True)
        )
    finally:
        os.umask(old_umask)
    return target


def _user_tables(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        """
        SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(%s)
        """,
        [list(SYSTEM_SCHEMAS)],
    ).fetchone()
    return int(row[0]) if row else 0


def compare(
    expected: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]
) -> list[str]:
    """The tables (and sequences) that differ, each with how."""
    differences = []
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            differences.append(f"{name}: missing after the restore")
        elif name not in expected:
            differences.append(f"{name}: not in the backup")
        elif expected[name] != found[name]:
            differences.append(f"{name}: {expected[name]} != {found[name]}")
    return differences


def restore(dump_file: Path, target_url: str, *, force: bool = False) -> int:
    """Load ``dump_file`` into the (empty, unless ``force``) database at
    ``target_url`` and check it against the manifest; returns the tables checked."""
    target = libpq_url(target_url)
    pg_restore = _binary("pg_restore")
    if not dump_file.is_file():
        raise BackupError(f"No such backup file: {dump_file}")
    with psycopg.connect(target) as conn:
        existing = _user_tables(conn)
    if existing and not force:
        raise BackupError(
            f"The target database {_database_name(target)!r} already has {existing} "
            "tables. Restore into a new, empty database (createdb), or add FORCE=1 "
            "to drop and replace what the backup contains."
        )
    command = [
        pg_restore,
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-privileges",
        f"--dbname={target}",
    ]
    if force:
        command += ["--clean", "--if-exists"]
    run = subprocess.run([*command, str(dump_file)], capture_output=True, text=True)
    if run.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing restored):\n{run.stderr}")
    manifest_file = Path(f"{dump_file}{MANIFEST_SUFFIX}")
    if not manifest_file.is_file():
        raise BackupError(
            f"Restored, but {manifest_file.name} is missing: the restore is not "
            "verified."
        )
    expected = json.loads(manifest_file.read_text())["tables"]
    differences = compare(expected, checksums(target))
    if differences:
        raise BackupError(
            "The restored database differs from the backup:\n" + "\n".join(differences)
        )
    return len(expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iopclinic.backup")
    commands = parser.add_subparsers(dest="command", required=True)
    dump_cmd = commands.add_parser("dump", help="pg_dump DATABASE_URL with a manifest")
    dump_cmd.add_argument("--dir", default="backups", type=Path)
    dump_cmd.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    restore_cmd = commands.add_parser("restore", help="pg_restore into an empty DB")
    restore_cmd.add_argument("file", type=Path)
    restore_cmd.add_argument("--target", required=True)
    restore_cmd.add_argument("--force", action="store_true")
    sums_cmd = commands.add_parser("checksums", help="print row counts and checksums")
    sums_cmd.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args(argv)
    try:
        if args.command == "dump":
            path = dump(args.database_url, args.dir)
            tables = json.loads(Path(f"{path}{MANIFEST_SUFFIX}").read_text())["tables"]
            print(f"Backup written: {path} ({path.stat().st_size} bytes)")
            print(f"Manifest: {path}{MANIFEST_SUFFIX} ({len(tables)} tables)")
        elif args.command == "restore":
            checked = restore(args.file, args.target, force=args.force)
            print(
                f"Restored {args.file} into {_database_name(libpq_url(args.target))}: "
                f"{checked} tables and sequences, identical row counts and checksums."
            )
        else:
            print(json.dumps(checksums(args.database_url), indent=1, sort_keys=True))
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
