"""On hold: a dated pause that keeps the seat, flagged once it outlasts its days."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from programs.models import Enrollment, HoldPeriod
from programs.workflows import end_hold, put_on_hold
from tests.factories import EnrollmentFactory, TrackFactory

pytestmark = pytest.mark.django_db


def test_a_hold_keeps_the_seat_and_ends_back_in_treatment(coordinator: Any) -> None:
    """On hold the seat stays held; ending the hold returns to active, on record."""
    track = TrackFactory(capacity=2)
    enrollment = EnrollmentFactory(track=track)
    today = timezone.localdate()

    hold = put_on_hold(
        enrollment=enrollment, by=coordinator, starts_on=today, reason="Inpatient stay"
    )

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ON_HOLD
    assert track.open_seats() == 1
    assert hold.keep_seat_until == today + datetime.timedelta(days=14)
    end_hold(enrollment=enrollment, by=coordinator, on=today)
    enrollment.refresh_from_db()
    hold.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert (hold.ended_on, hold.ended_by) == (today, coordinator)


def test_holds_need_a_reason_an_active_enrollment_and_a_sane_date(
    coordinator: Any,
) -> None:
    enrollment = EnrollmentFactory()
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="reason"):
        put_on_hold(enrollment=enrollment, by=coordinator, starts_on=today, reason="")
    with pytest.raises(ValidationError, match="before the admission"):
        put_on_hold(
            enrollment=enrollment,
            by=coordinator,
            starts_on=enrollment.admitted_on - datetime.timedelta(days=1),
            reason="x",
        )
    with pytest.raises(ValidationError, match="not on hold"):
        end_hold(enrollment=enrollment, by=coordinator, on=today)
    put_on_hold(enrollment=enrollment, by=coordinator, starts_on=today, reason="x")
    with pytest.raises(ValidationError, match="Only an active"):
        put_on_hold(enrollment=enrollment, by=coordinator, starts_on=today, reason="y")


def test_one_current_hold_per_enrollment_in_the_database(coordinator: Any) -> None:
    enrollment = EnrollmentFactory()
    today = timezone.localdate()
    put_on_hold(enrollment=enrollment, by=coordinator, starts_on=today, reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        HoldPeriod.objects.create(
            enrollment=enrollment, starts_on=today, keep_seat_until=today, reason="y"
        )


def test_a_hold_past_its_days_is_flagged_for_coordinators(
    client: Any, coordinator: Any
) -> None:
    long_ago = timezone.localdate() - datetime.timedelta(days=20)
    enrollment = EnrollmentFactory(admitted_on=long_ago - datetime.timedelta(days=5))
    put_on_hold(enrollment=enrollment, by=coordinator, starts_on=long_ago, reason="x")
    assert list(HoldPeriod.objects.past_seat_limit()) == list(enrollment.holds.all())
    client.force_login(coordinator)
    work = {i.label: i.count for i in client.get("/admin/").context["todays_work"]}
    assert work["Holds past their seat-keeping days"] == 1


def test_put_on_hold_from_the_enrollment_list(client: Any, make_staff: Any) -> None:
    """The action asks for the start, reason and days, then holds the seat."""
    enrollment = EnrollmentFactory()
    client.force_login(make_staff(roles.INTAKE_COORDINATOR))
    url = reverse("admin:programs_enrollment_changelist")
    action = {"action": "put_on_hold", "_selected_action": [enrollment.pk]}

    assert client.post(url, action).status_code == 200  # the form first
    done = client.post(
        url,
        {
            **action,
            "apply": "1",
            "starts_on": timezone.localdate().isoformat(),
            "reason": "Inpatient stay",
            "keep_seat_days": "10",
        },
    )

    assert done.status_code == 302
    hold = HoldPeriod.objects.get(enrollment=enrollment)
    assert (hold.keep_seat_until - hold.starts_on).days == 10
    assert (
        client.get(
            reverse("admin:programs_enrollment_change", args=[enrollment.pk])
        ).status_code
        == 200
    )
