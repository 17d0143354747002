"""The whole first call in a real browser: log the inquiry, screen, create the client,
put them on the waitlist; with no console error or CSP violation on the way."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from intake.models import Inquiry, WaitlistEntry
from iopclinic import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a browser test pass phrase 42"


def save_and_continue(page: Any) -> None:
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success, .errornote")
    assert page.locator(".errornote").count() == 0, page.locator(
        ".errorlist"
    ).all_text_contents()


@pytest.mark.usefixtures("seeded_concerns")
def test_a_coordinator_takes_a_call_from_first_ring_to_the_waitlist(
    page: Any, live_server: Any, django_user_model: Any
) -> None:
    roles.sync_roles()
    coordinator = django_user_model.objects.create_user(
        "imani", password=PASSWORD, is_staff=True, first_name="Imani"
    )
    coordinator.groups.add(Group.objects.get(name=roles.INTAKE_COORDINATOR))
    errors: list[str] = []
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" else None
    )

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "imani")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    # The call: who they are, how to reach them, what they need.
    page.goto(f"{live_server.url}/admin/intake/inquiry/add/")
    page.fill("#id_first_name", "Robin")
    page.fill("#id_last_name", "Larkspur")
    page.fill("#id_date_of_birth", "1991-04-12")
    page.fill("#id_phone", "(555) 301-4477")
    page.get_by_label("Anxiety").check()
    page.get_by_label("IOP (intensive outpatient)").check()
    page.get_by_label("Evening track").check()
    # The safety screen: a passive wish to be dead only, so low risk.
    page.check("input[name=cssrs_wish_dead][value=True]")
    page.check("input[name=cssrs_suicidal_thoughts][value=False]")
    page.check("input[name=cssrs_behaviour][value=False]")
    page.check("input[name=intent_to_harm_others][value=False]")
    page.check("input[name=medical_emergency][value=False]")
    save_and_continue(page)
    assert page.locator(".field-risk .risk-low").count() == 1

    for status in ("contacted", "screening", "eligible"):
        page.select_option("#id_move_to", status)
        save_and_continue(page)
    assert "Screening -> Eligible" in page.locator(".field-timeline").inner_text()

    # The client record, from what the inquiry holds: nothing retyped.
    page.click("text=Create or link client record")
    page.click("input[name=create]")
    page.wait_for_selector(".messagelist .success")
    inquiry = Inquiry.objects.get(last_name="Larkspur")
    assert inquiry.client is not None
    assert inquiry.client.phone == "(555) 301-4477"

    # The waitlist, from the inquiry list's actions.
    page.goto(f"{live_server.url}/admin/intake/inquiry/")
    page.check(f"input[name=_selected_action][value='{inquiry.pk}']")
    page.select_option("select[name=action]", "waitlist_routine")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")

    page.goto(f"{live_server.url}/admin/intake/waitlistentry/")
    row = page.locator("#result_list tbody tr", has_text="Larkspur")
    assert row.locator("td.field-position").inner_text() == "1"
    entry = WaitlistEntry.objects.get(client=inquiry.client)
    assert entry.level_of_care == "iop"
    assert entry.preferred_schedule == "evening"
    assert Inquiry.objects.get(pk=inquiry.pk).status == Inquiry.Status.WAITLISTED
    assert errors == []
