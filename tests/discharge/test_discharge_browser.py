"""In Chromium, as the clinic would: the therapist prepares the discharge plan,
finalises it, discharges the client and prints the client's copy; a coordinator then
sees the freed seat and who is next for it. No CSP or script error on the way."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from iopclinic import roles
from programs.models import Enrollment
from tests.factories import (
    ClientFactory,
    EnrollmentFactory,
    TrackFactory,
    WaitlistEntryFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a browser test pass phrase 42"


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_plan_finalise_discharge_print_and_the_seat_is_offered(
    page: Any,
    live_server: Any,
    django_user_model: Any,
    console_errors: list[str],
) -> None:
    roles.sync_roles()
    staff = {}
    for username, role in [
        ("theo", roles.THERAPIST),
        ("imani", roles.INTAKE_COORDINATOR),
    ]:
        user = django_user_model.objects.create_user(
            username, password=PASSWORD, is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        staff[username] = user
    track = TrackFactory(name="IOP evening", capacity=1)
    enrollment = EnrollmentFactory(
        track=track,
        client=ClientFactory(first_name="Robin", last_name="Larkspur"),
        primary_therapist=staff["theo"],
    )
    WaitlistEntryFactory(
        client=ClientFactory(first_name="Sage", last_name="Thistle"),
        level_of_care="iop",
        preferred_schedule="either",
    )

    sign_in(page, live_server, "theo")
    page.goto(f"{live_server.url}/admin/programs/enrollment/{enrollment.pk}/change/")
    page.click("text=Start the discharge plan")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    today = f"{timezone.localdate():%Y-%m-%d}"
    page.fill("#id_planned_on", today)
    page.fill("#id_intended_reason", "Met the discharge criteria.")
    page.fill("#id_client_agreed_on", today)
    page.fill("#id_warning_signs", "Sleeping past noon.")
    page.fill("#id_coping_strategies", "Morning walk; call my sister.")
    page.select_option("#id_referrals-0-kind", "outpatient_therapy")
    page.fill("#id_referrals-0-organisation", "Riverside Counselling")
    page.fill("#id_referrals-0-phone", "555-0141")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    page.click("text=Finalise")
    page.click("input[value='Finalise the plan']")
    page.wait_for_selector(".messagelist .success")

    page.goto(f"{live_server.url}/admin/programs/enrollment/{enrollment.pk}/change/")
    page.click("text=Discharge…")
    page.select_option("#id_discharge_type", "completed")
    page.fill("#id_reason", "Finished the program.")
    page.click("input[value=Discharge]")
    message = page.locator(".messagelist .success").inner_text()
    assert "A seat is open in IOP evening" in message
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.DISCHARGED

    page.click("text=Client's copy")
    copy = page.content()
    assert "Riverside Counselling" in copy
    assert "988" in copy

    page.context.clear_cookies()
    sign_in(page, live_server, "imani")
    ready = page.locator("li", has_text="Ready to offer: a seat in IOP evening")
    assert "Thistle" in ready.inner_text()
    assert console_errors == []
