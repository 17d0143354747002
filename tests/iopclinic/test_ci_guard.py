"""Under CI=true a skipped PostgreSQL or browser test fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ONLY = (
    "tests/intake/test_client.py::test_concurrent_creation_never_duplicates_an_mrn"
)


def run_on_sqlite(ci: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": ci, "DATABASE_URL": "sqlite://:memory:"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", POSTGRES_ONLY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_postgres_test_skipped_on_sqlite_fails_under_ci() -> None:
    result = run_on_sqlite(ci="true")
    assert result.returncode == 1, result.stdout
    assert "PostgreSQL and browser tests must run in CI" in result.stdout


def test_the_same_skip_is_only_reported_outside_ci() -> None:
    result = run_on_sqlite(ci="")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "needs PostgreSQL" in result.stdout
