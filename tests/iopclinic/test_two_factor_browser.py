"""A new staff member in a real Chromium, with production's sign-in rules: forced
through enrolment before seeing any client, a code at the next sign-in, signed out
after the idle timeout; no CSP violation on the way (the QR code is inline SVG)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import Group

from iopclinic import roles
from tests.factories import ClientFactory, EnrollmentFactory
from tests.otp import code_from_secret

pytestmark = [
    pytest.mark.browser,
    pytest.mark.two_factor,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a browser two factor pass phrase 42"


def sign_in(page: Any) -> None:
    page.fill("#id_username", "newhire")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_a_new_staff_member_enrols_signs_in_with_a_code_and_times_out(
    page: Any,
    live_server: Any,
    django_user_model: Any,
    console_errors: list[str],
    settings: Any,
) -> None:
    assert settings.REQUIRE_2FA and not settings.DEBUG
    roles.sync_roles()
    user = django_user_model.objects.create_user(
        "newhire", password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name=roles.THERAPIST))
    record = ClientFactory(first_name="Robin", last_name="Larkspur")
    EnrollmentFactory(client=record, primary_therapist=user)
    client_page = f"{live_server.url}/admin/intake/client/{record.pk}/change/"

    # The password alone reaches the enrolment page and nothing else.
    page.goto(client_page)
    sign_in(page)
    page.wait_for_url("**/admin/two-factor/enrol/**")
    assert "Larkspur" not in page.content()
    page.goto(f"{live_server.url}/admin/intake/client/")
    page.wait_for_url("**/admin/two-factor/enrol/**")
    assert page.locator("#two-factor-qr svg").count() == 1

    # The phone: the key as typed from the page, a code from it.
    secret = page.inner_text("#two-factor-secret")
    page.fill("#id_code", code_from_secret(secret))
    page.click("#two-factor-enrol input[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("#two-factor-continue")
    page.wait_for_url("**/admin/intake/client/**")
    assert "Larkspur" in page.content()

    # The next sign-in asks for a code (the next one: a code is never used twice).
    page.click("#logout-form button")
    page.goto(client_page)
    sign_in(page)
    page.wait_for_url("**/admin/two-factor/verify/**")
    assert "Larkspur" not in page.content()
    page.fill("#id_code", code_from_secret(secret, steps_ahead=1))
    page.click("#two-factor-verify input[type=submit]")
    page.wait_for_url(client_page)
    assert "Larkspur" in page.content()

    # Idle: a short timeout for the test, then nothing but the login page.
    settings.SESSION_COOKIE_AGE = 2
    page.goto(f"{live_server.url}/admin/")
    time.sleep(3)
    page.goto(client_page)
    page.wait_for_url("**/admin/login/**")
    assert "Larkspur" not in page.content()
    assert console_errors == []
