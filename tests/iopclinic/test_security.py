"""HTTP-level protections: CSP, no-store, the sliding idle timeout, login throttling."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_admin_pages_carry_a_strict_content_security_policy(client: Any) -> None:
    response = client.get(reverse("admin:login"))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    for directive in ("script-src", "style-src"):
        assert "'nonce-" in directives[directive]
        assert "unsafe-inline" not in directives[directive]
        assert "unsafe-eval" not in directives[directive]
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_admin_pages_are_never_stored(client: Any, coordinator: Any) -> None:
    """no-store on pages, on the redirect to login, and on refusals alike."""
    assert "no-store" in client.get(reverse("admin:index"))["Cache-Control"]  # 302
    client.force_login(coordinator)
    assert "no-store" in client.get(reverse("admin:index"))["Cache-Control"]
    assert (
        "no-store" in client.get(reverse("admin:auth_user_changelist"))["Cache-Control"]
    )


def test_idle_timeout_slides_with_each_request(client: Any, coordinator: Any) -> None:
    """Each request renews the session for SESSION_IDLE_MINUTES from that moment."""
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60 == 15 * 60
    client.force_login(coordinator)
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=1))

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    renewed = Session.objects.get().expire_date - timezone.now()
    assert timedelta(minutes=14) < renewed <= timedelta(minutes=15)
    # A browser-session cookie: closing the browser ends the session too.
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""


def test_an_idle_session_is_logged_out(client: Any, coordinator: Any) -> None:
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(coordinator)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_passwords_are_hashed_with_argon2(django_user_model: Any) -> None:
    user = django_user_model.objects.create_user(
        "argon", password="a long pass phrase 42"
    )
    assert user.password.startswith("argon2$")


def test_repeated_failed_logins_lock_the_account_from_that_address(
    client: Any, django_user_model: Any
) -> None:
    """After 5 failures even the right password is refused, with a clear message."""
    django_user_model.objects.create_user(
        "locked", password="the right pass phrase 42", is_staff=True
    )
    login = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "locked", "password": "wrong"})
    response = client.post(
        login, {"username": "locked", "password": "the right pass phrase 42"}
    )
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_real_login_through_the_form_works(
    client: Any, django_user_model: Any
) -> None:
    django_user_model.objects.create_user(
        "fine", password="the right pass phrase 42", is_staff=True
    )
    response = client.post(
        reverse("admin:login"),
        {"username": "fine", "password": "the right pass phrase 42"},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"]
