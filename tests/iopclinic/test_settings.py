"""Configuration from the environment, and the production checks that refuse a bad one.

Settings are read once per process, so these start `manage.py` in a subprocess with the
environment under test.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from iopclinic import checks

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "clinic.example.org",
    "DATABASE_URL": "postgres://iopclinic@db.example.org:5432/iopclinic",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    test_only = {
        "SECRET_KEY",
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    clean = {k: v for k, v in os.environ.items() if k not in test_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "iopclinic.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def setting(name: str, **env: str) -> str:
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        f"from django.conf import settings; print(settings.{name})",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
def test_check_deploy_reports_nothing_with_nothing_silenced() -> None:
    """Model checks ask the server what it supports, so this one needs a real server."""
    from django.db import connection

    db = connection.settings_dict
    reachable = (
        f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **{**PRODUCTION, "DATABASE_URL": reachable},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_fails_on_sqlite_and_a_long_idle_timeout() -> None:
    env = {
        **PRODUCTION,
        "DATABASE_URL": "sqlite:///prod.sqlite3",
        "SESSION_IDLE_MINUTES": "240",
    }
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert "iopclinic.E001" in result.stderr
    assert "iopclinic.E006" in result.stderr


def test_debug_is_off_unless_set() -> None:
    assert setting("DEBUG", SECRET_KEY=PRODUCTION["SECRET_KEY"]) == "False"


def test_demo_sqlite_serialises_writes() -> None:
    options = setting(
        "DATABASES['default']['OPTIONS']",
        DEBUG="true",
        DATABASE_URL="sqlite:///x.sqlite3",
    )
    assert "'transaction_mode': 'IMMEDIATE'" in options


def test_postgres_connections_are_kept() -> None:
    assert int(setting("DATABASES['default']['CONN_MAX_AGE']", **PRODUCTION)) > 0


def test_clinic_time_zone_comes_from_the_environment() -> None:
    assert setting("TIME_ZONE", DEBUG="true") == "America/New_York"
    assert (
        setting("TIME_ZONE", DEBUG="true", CLINIC_TIME_ZONE="America/Denver")
        == "America/Denver"
    )
    result = manage("check", DEBUG="true", CLINIC_TIME_ZONE="Mars/Olympus")
    assert "is not an IANA time zone" in result.stderr


@pytest.mark.parametrize(
    ("override", "error_id"),
    [
        ({"SESSION_COOKIE_AGE": 8 * 3600}, "iopclinic.E001"),
        ({"SESSION_SAVE_EVERY_REQUEST": False}, "iopclinic.E002"),
        ({"AUTH_PASSWORD_VALIDATORS": []}, "iopclinic.E003"),
        (
            {"PASSWORD_HASHERS": ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]},
            "iopclinic.E005",
        ),
        (
            {"SECURE_CSP": {"script-src": ["'self'", "'unsafe-inline'"]}},
            "iopclinic.E008",
        ),
        ({"REQUIRE_2FA": False}, "iopclinic.E009"),
        (
            {"MIDDLEWARE": ["django.middleware.security.SecurityMiddleware"]},
            "iopclinic.E009",
        ),
        ({"SESSION_ABSOLUTE_SECONDS": 12 * 3600 + 1}, "iopclinic.E010"),
        ({"SESSION_ABSOLUTE_SECONDS": 0}, "iopclinic.E010"),
    ],
)
def test_own_checks_catch_a_bad_production_setting(
    override: dict[str, Any], error_id: str
) -> None:
    with override_settings(**override):
        found = [
            error.id
            for check in (
                checks.check_session_lifetime,
                checks.check_passwords,
                checks.check_content_security_policy,
                checks.check_two_factor,
                checks.check_absolute_session_lifetime,
            )
            for error in check()
        ]
    assert error_id in found


def test_own_checks_pass_on_the_real_settings() -> None:
    with override_settings(REQUIRE_2FA=True):  # the conftest turns it off for tests
        assert checks.check_two_factor() == []
    assert checks.check_absolute_session_lifetime() == []
    assert checks.check_debug_with_real_database() == []
    assert checks.check_session_lifetime() == []
    assert checks.check_passwords() == []
    assert checks.check_content_security_policy() == []
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_two_factor_is_on_in_production_and_off_in_the_demo() -> None:
    assert setting("REQUIRE_2FA", **PRODUCTION) == "True"
    assert setting("REQUIRE_2FA", DEBUG="true") == "False"
    assert setting("SESSION_ABSOLUTE_SECONDS", **PRODUCTION) == str(12 * 3600)
    assert setting(
        "SESSION_ABSOLUTE_SECONDS", DEBUG="true", SESSION_ABSOLUTE_HOURS="8"
    ) == str(8 * 3600)


def test_a_production_start_fails_without_two_factor_or_with_a_long_lifetime() -> None:
    """`make serve` runs check --deploy first: these stop it."""
    env = {**PRODUCTION, "REQUIRE_2FA": "false", "SESSION_ABSOLUTE_HOURS": "24"}
    # Security checks only: the model checks would ask db.example.org.
    result = manage("check", "--deploy", "--tag", "security", **env)
    assert result.returncode != 0
    assert "iopclinic.E009" in result.stderr
    assert "iopclinic.E010" in result.stderr


def test_debug_with_a_postgresql_database_fails_the_deploy_check() -> None:
    env = {**PRODUCTION, "DEBUG": "true"}
    result = manage("check", "--deploy", "--tag", "security", **env)
    assert result.returncode != 0
    assert "iopclinic.E011" in result.stderr
    assert (
        "iopclinic.E011"
        not in manage(
            "check", "--deploy", DEBUG="true", DATABASE_URL="sqlite:///demo.sqlite3"
        ).stderr
    )
