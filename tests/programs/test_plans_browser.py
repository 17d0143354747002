"""In Chromium, as a therapist would: see the overdue plan on the index, write the
plan level by level, sign it, review and revise it; no CSP or script error."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from iopclinic import roles
from programs.models import PlanStatus, TreatmentPlan
from tests.factories import ClientFactory, EnrollmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a browser test pass phrase 42"


def test_a_therapist_writes_signs_and_revises_a_plan(
    page: Any,
    live_server: Any,
    django_user_model: Any,
    console_errors: list[str],
    seeded_concerns: None,
) -> None:
    roles.sync_roles()
    therapist = django_user_model.objects.create_user(
        "theo", password=PASSWORD, is_staff=True, first_name="Theo", last_name="T"
    )
    therapist.groups.add(Group.objects.get(name=roles.THERAPIST))
    enrollment = EnrollmentFactory(
        client=ClientFactory(first_name="Robin", last_name="Larkspur"),
        primary_therapist=therapist,
        plan_due_on=timezone.localdate() - datetime.timedelta(days=1),
    )

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "theo")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    overdue = page.locator("li", has_text="Treatment plans or reviews overdue")
    assert "1" in overdue.inner_text()

    page.goto(f"{live_server.url}/admin/programs/enrollment/{enrollment.pk}/change/")
    page.click("text=Start the plan")
    page.click("input[name=_continue]")
    plan = TreatmentPlan.objects.get(enrollment=enrollment)

    def save() -> None:
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")

    page.fill("#id_discharge_criteria", "PHQ-9 below 10 for two weeks.")
    page.fill("#id_problems-0-statement", "Low mood, withdrawn.")
    save()
    page.select_option("#id_goals-0-problem", index=1)
    page.fill("#id_goals-0-client_words", "I want to see my friends again.")
    save()
    page.select_option("#id_objectives-0-goal", index=1)
    page.fill("#id_objectives-0-statement", "Meet a friend twice a week")
    page.fill(
        "#id_objectives-0-target_date",
        f"{timezone.localdate() + datetime.timedelta(days=28):%Y-%m-%d}",
    )
    save()
    page.select_option("#id_interventions-0-objective", index=1)
    page.select_option("#id_interventions-0-service", "group_therapy")
    page.fill("#id_interventions-0-frequency", "3x/week")
    page.select_option("#id_interventions-0-responsible", str(therapist.pk))
    save()

    page.click("text=Sign")
    page.click("input[value='Sign the plan']")
    page.wait_for_selector(".messagelist .success")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SIGNED
    # Signed: read-only, no field left to type in.
    assert page.locator("#id_discharge_criteria").count() == 0

    page.click("text=Review the plan")
    page.check("input[name=decision][value=revise]")
    page.select_option("#id_form-0-status", "improving")
    page.click("input[value='Record the review']")
    page.wait_for_selector(".messagelist .success")
    draft = TreatmentPlan.objects.get(enrollment=enrollment, version=2)
    assert draft.status == PlanStatus.DRAFT
    assert draft.objectives.get().status == "improving"
    page.goto(f"{live_server.url}/admin/programs/treatmentplan/{plan.pk}/print/")
    assert "I want to see my friends again." in page.content()
    assert console_errors == []
