"""`make audit-deps` (.ci/audit-deps) fails CI on a known vulnerability in the locked
dependencies, and on dependencies it could not check; it passes only a clean report."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def audit_report() -> Any:
    spec = importlib.util.spec_from_file_location(
        "audit_report", ROOT / ".ci" / "audit_report.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_known_vulnerability_fails() -> None:
    report = {
        "dependencies": [
            {"name": "django", "version": "6.1.3", "vulns": []},
            {
                "name": "qrcode",
                "version": "8.2",
                "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["8.3"]}],
            },
        ]
    }
    status, lines = audit_report().verdict(report)
    assert status == 1
    assert "qrcode 8.2: PYSEC-0000-1 (fixed in 8.3)" in lines


def test_a_dependency_that_could_not_be_checked_fails_too() -> None:
    report = {
        "dependencies": [
            {"name": "django", "version": "6.1.3", "vulns": []},
            {"name": "qrcode", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    status, _ = audit_report().verdict(report)
    assert status == 3


def test_a_clean_report_passes() -> None:
    report = {"dependencies": [{"name": "django", "version": "6.1.3", "vulns": []}]}
    assert audit_report().verdict(report) == (
        0,
        ["1 locked dependencies checked: no known vulnerability."],
    )


def test_ci_runs_the_audit() -> None:
    assert "make audit-deps" in (ROOT / ".ci" / "run").read_text()
