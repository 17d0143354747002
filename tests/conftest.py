"""Test-wide fixtures and the rule that CI cannot pass by skipping what matters.

PostgreSQL-only tests (marker ``postgres``) and real-browser tests (marker ``browser``)
are skipped with their reason on a developer's SQLite run; under ``CI=true`` such a skip
is turned into a failure, so CI cannot go green by losing its database or its browser.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from iopclinic import roles

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
GUARDED_MARKERS = ("postgres", "browser")


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (row locks, concurrent transactions): "
            "run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/iopclinic"
        )
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        pytest.skip(f"needs Chromium at {CHROMIUM} (Debian package 'chromium')")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    guarded = any(item.get_closest_marker(name) for name in GUARDED_MARKERS)
    if report.skipped and guarded and running_in_ci():
        report.outcome = "failed"
        report.longrepr = (
            f"CI=true: {item.nodeid} was skipped ({report.longrepr}); PostgreSQL and "
            "browser tests must run in CI."
        )


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Cached counts (Today's work) never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def plain_static_files(settings: Any) -> None:
    """Production hashes static files at collectstatic; tests serve them from the
    apps."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def two_factor_only_where_tested(request: pytest.FixtureRequest, settings: Any) -> None:
    """REQUIRE_2FA is on with DEBUG off, as in production; tests that sign in with
    ``force_login`` are about something else, so only tests marked ``two_factor`` meet
    the second factor (tests/iopclinic/test_two_factor.py)."""
    settings.REQUIRE_2FA = request.node.get_closest_marker("two_factor") is not None


@pytest.fixture
def make_staff(django_user_model: Any) -> Callable[..., Any]:
    """Create an active staff user, in the given role (a group from iopclinic.roles)."""
    roles.sync_roles()
    counter = iter(range(1, 10_000))

    def make(role: str | None = None, *, superuser: bool = False, **fields: Any) -> Any:
        username = fields.pop(
            "username", f"{(role or 'staff').split()[0].lower()}{next(counter)}"
        )
        user = django_user_model.objects.create_user(
            username=username,
            password=None,
            is_staff=True,
            is_superuser=superuser,
            **fields,
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def seeded_concerns(db: None) -> None:
    """The presenting concerns the data migration seeds, again: a transactional test's
    flush empties every table, seeded ones included."""
    from django.apps import apps

    migration = importlib.import_module(
        "intake.migrations.0003_seed_presenting_concerns"
    )
    migration.seed(apps, None)


@pytest.fixture
def coordinator(make_staff: Callable[..., Any]) -> Any:
    return make_staff(roles.INTAKE_COORDINATOR)


@pytest.fixture
def superuser(make_staff: Callable[..., Any]) -> Any:
    return make_staff(superuser=True, username="root")


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser; flags for a closed network."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def console_errors(page: Any) -> list[str]:
    """Every console error and uncaught exception of a browser test's page: a CSP
    violation is one, so a test that asserts this list is empty catches them."""
    errors: list[str] = []
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
