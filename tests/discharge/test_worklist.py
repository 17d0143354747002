"""The admin index shows each clinician the discharge work of their own caseload."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from discharge.workflows import discharge_client
from iopclinic import roles
from iopclinic.worklist import todays_work
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def counts(rf: Any, user: Any) -> dict[str, int]:
    request = rf.get("/admin/")
    request.user = user
    return {item.label: item.count for item in todays_work(request)}


def test_overdue_summaries_and_follow_ups_of_the_caseload_only(
    rf: Any, make_staff: Any
) -> None:
    mine, theirs = make_staff(roles.THERAPIST), make_staff(roles.THERAPIST)
    today = timezone.localdate()
    for therapist in (mine, theirs):
        discharge_client(
            enrollment=EnrollmentFactory(
                primary_therapist=therapist,
                admitted_on=today - datetime.timedelta(days=60),
            ),
            by=therapist,
            on=today - datetime.timedelta(days=16),
            discharge_type="lost_contact",
            reason="Stopped attending.",
        )
    work = counts(rf, mine)
    assert work["Discharge summaries overdue (15 days)"] == 1
    # The 7-day check-in was due 9 days ago; the 30-day one is not due yet.
    assert work["Post-discharge follow-ups overdue"] == 1
    assert work["Discharges planned in the next 7 days"] == 0


def test_coordinators_do_not_see_discharge_work(rf: Any, coordinator: Any) -> None:
    assert "Discharge summaries overdue (15 days)" not in counts(rf, coordinator)
