"""Session limits (HIPAA 164.312(a)(2)(iii), ONC 170.315(d)(5), ASVS V3): an absolute
lifetime after sign-in, and every session of a user ends when they are deactivated or
their password changes. The sliding idle timeout is tested in test_security.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from iopclinic.signin import SIGNED_IN_AT, end_sessions

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
PASSWORD = "a session test pass phrase 42"


def signed_in(client: Client) -> bool:
    response = client.get(INDEX)
    return response.status_code == 200


def test_the_absolute_lifetime_is_twelve_hours_by_default() -> None:
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600


def test_a_session_ends_at_its_absolute_lifetime_however_busy(
    client: Client, coordinator: Any
) -> None:
    client.force_login(coordinator)
    assert signed_in(client)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()

    response = client.get(reverse("admin:intake_client_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "_auth_user_id" not in client.session
    assert not signed_in(client)


def test_a_session_inside_its_lifetime_goes_on(
    client: Client, coordinator: Any
) -> None:
    client.force_login(coordinator)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS + 60
    session.save()
    assert signed_in(client)


def test_the_lifetime_clock_starts_at_sign_in_not_at_the_last_click(
    client: Client, coordinator: Any
) -> None:
    client.force_login(coordinator)
    started = client.session[SIGNED_IN_AT]
    client.get(INDEX)
    client.get(INDEX)
    assert client.session[SIGNED_IN_AT] == started


def test_deactivating_a_user_ends_all_their_sessions(coordinator: Any) -> None:
    desk, laptop = Client(), Client()
    desk.force_login(coordinator)
    laptop.force_login(coordinator)
    assert signed_in(desk) and signed_in(laptop)

    coordinator.is_active = False
    coordinator.save(update_fields=["is_active"])

    assert not signed_in(desk)
    assert not signed_in(laptop)


def test_a_password_reset_by_an_administrator_ends_all_their_sessions(
    client: Client, coordinator: Any, superuser: Any
) -> None:
    desk, laptop = Client(), Client()
    desk.force_login(coordinator)
    laptop.force_login(coordinator)
    client.force_login(superuser)

    response = client.post(
        reverse("admin:auth_user_password_change", args=[coordinator.pk]),
        {"password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert not signed_in(desk)
    assert not signed_in(laptop)


def test_changing_ones_own_password_ends_the_other_sessions(
    coordinator: Any,
) -> None:
    coordinator.set_password("the old pass phrase 1234")
    coordinator.save()
    desk, laptop = Client(), Client()
    desk.force_login(coordinator)
    laptop.force_login(coordinator)

    response = desk.post(
        reverse("admin:password_change"),
        {
            "old_password": "the old pass phrase 1234",
            "new_password1": PASSWORD,
            "new_password2": PASSWORD,
        },
    )

    assert response.status_code == 302
    assert signed_in(desk)  # the session that changed it goes on
    assert not signed_in(laptop)


def test_end_sessions_deletes_only_that_users_sessions(
    coordinator: Any, superuser: Any
) -> None:
    from django.contrib.sessions.models import Session

    mine, theirs = Client(), Client()
    mine.force_login(coordinator)
    theirs.force_login(superuser)
    assert end_sessions(coordinator) == 1
    assert Session.objects.count() == 1
    assert signed_in(theirs)
