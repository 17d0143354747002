"""The admin world (admin_world.py), built once per test module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from tests.iopclinic.admin_world import ANONYMOUS, USER_KINDS, World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """Built once, inside a transaction rolled back at the end; each test runs in a
    savepoint of its own (pytest-django's ``db``), so a POST that got through is
    undone before the next test."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
            # Signed in once: the sessions live as long as the world.
            for kind in USER_KINDS:
                client = Client()
                if kind != ANONYMOUS:
                    client.force_login(world.users[kind])
                world.clients[kind] = client
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
