"""A real Chromium signs in as each role: the right sections, and no CSP violation."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from iopclinic import roles
from tests.factories import ClientFactory, EnrollmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a browser test pass phrase 42"

# What each role finds on the admin index, and what it must not find.
PROGRAMS = "Programs & treatment"
SECTIONS = {
    roles.INTAKE_COORDINATOR: ["Intake", PROGRAMS],
    roles.THERAPIST: ["Intake", PROGRAMS, "Discharge"],
    roles.PSYCHIATRIST: ["Intake", PROGRAMS, "Discharge"],
    roles.PROGRAM_MANAGER: ["Intake", PROGRAMS, "Discharge", "Reports"],
    None: ["Intake", PROGRAMS, "Discharge", "Reports", "Staff & access"],
}


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


@pytest.mark.parametrize("role", list(SECTIONS), ids=lambda role: role or "superuser")
def test_each_role_signs_in_and_sees_only_its_sections(
    page: Any,
    live_server: Any,
    django_user_model: Any,
    console_errors: list[str],
    role: Any,
) -> None:
    roles.sync_roles()
    user = django_user_model.objects.create_user(
        "browser", password=PASSWORD, is_staff=True, is_superuser=role is None
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    # On the user's caseload, so a clinician may open the record too.
    EnrollmentFactory(
        client=ClientFactory(first_name="Robin", last_name="Larkspur"),
        primary_therapist=user,
    )

    sign_in(page, live_server, "browser")

    captions = [
        text.strip()
        for text in page.locator("#content-main caption").all_text_contents()
    ]
    assert captions == SECTIONS[role]
    # A list and a record (a date widget where the role may edit): the admin's scripts
    # run under the policy.
    page.click("text=Clients")
    page.click("text=Larkspur")
    page.wait_for_selector(".field-date_of_birth", timeout=5000)
    assert console_errors == []


def test_login_page_has_no_csp_violation(
    page: Any, live_server: Any, console_errors: list[str]
) -> None:
    response = page.goto(f"{live_server.url}/admin/login/")
    assert "nonce-" in response.headers["content-security-policy"]
    assert page.title().startswith("Log in")
    assert console_errors == []
