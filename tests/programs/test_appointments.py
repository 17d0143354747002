"""Individual appointments: one client each, the same attendance statuses, counted in
the week's hours and days."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from programs import compliance
from programs.models import Appointment, Attendance, GroupSession
from tests.admin_forms import form_data
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_a_therapist_books_and_records_an_appointment_for_their_client(
    client: Any, make_staff: Any
) -> None:
    therapist = make_staff(roles.THERAPIST)
    mine = EnrollmentFactory(primary_therapist=therapist)
    other = EnrollmentFactory()
    Appointment.objects.create(
        enrollment=other,
        service="medication_management",
        starts_at=timezone.now() - datetime.timedelta(days=1),
    )
    client.force_login(therapist)
    url = reverse("admin:programs_appointment_add")
    when = timezone.localtime() - datetime.timedelta(hours=2)

    response = client.post(
        url,
        form_data(
            client.get(url),
            enrollment=mine.pk,
            service="individual_therapy",
            starts_at_0=when.date().isoformat(),
            starts_at_1=when.strftime("%H:%M"),
            duration_minutes="50",
            attendance="present",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    appointment = Appointment.objects.get(enrollment=mine)
    assert appointment.minutes_attended == 50
    listed = client.get(reverse("admin:programs_appointment_changelist"))
    assert [a.pk for a in listed.context["cl"].result_list] == [appointment.pk]


@pytest.mark.parametrize(
    ("days_from_now", "attendance", "field"),
    [(2, "present", "attendance"), (-60, "", "starts_at")],
    ids=["attendance-before-it-happened", "outside-the-enrollment"],
)
def test_bad_appointments_are_form_errors(
    client: Any, coordinator: Any, days_from_now: int, attendance: str, field: str
) -> None:
    enrollment = EnrollmentFactory()
    client.force_login(coordinator)
    url = reverse("admin:programs_appointment_add")
    when = timezone.localtime() + datetime.timedelta(days=days_from_now)
    response = client.post(
        url,
        form_data(
            client.get(url),
            enrollment=enrollment.pk,
            service="individual_therapy",
            starts_at_0=when.date().isoformat(),
            starts_at_1="10:00",
            duration_minutes="50",
            attendance=attendance,
        ),
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Appointment.objects.exists()


def test_appointments_count_toward_the_week_and_a_day_counts_once() -> None:
    monday = compliance.monday_of(timezone.localdate()) - datetime.timedelta(weeks=1)
    enrollment = EnrollmentFactory(admitted_on=monday - datetime.timedelta(days=7))
    morning = datetime.datetime.combine(
        monday, datetime.time(9), tzinfo=timezone.get_default_timezone()
    )
    session = GroupSession.objects.create(
        track=enrollment.track,
        service="group_therapy",
        starts_at=morning,
        duration_minutes=180,
    )
    Attendance.objects.create(session=session, enrollment=enrollment, status="present")
    for day, service in ((0, "individual_therapy"), (1, "medication_management")):
        Appointment.objects.create(
            enrollment=enrollment,
            service=service,
            starts_at=morning + datetime.timedelta(days=day, hours=4),
            duration_minutes=30,
            attendance="present",
        )
    assert compliance.weekly_totals([enrollment.pk], monday) == {
        enrollment.pk: (240, 2)
    }


def test_a_therapist_cannot_book_for_an_enrollment_outside_their_caseload(
    client: Any, make_staff: Any
) -> None:
    """An enrollment id typed into the POST is refused like an unknown one."""
    therapist = make_staff(roles.THERAPIST)
    other = EnrollmentFactory()
    client.force_login(therapist)
    url = reverse("admin:programs_appointment_add")
    when = timezone.localtime() - datetime.timedelta(hours=2)

    response = client.post(
        url,
        form_data(
            client.get(url),
            enrollment=other.pk,
            service="individual_therapy",
            starts_at_0=when.date().isoformat(),
            starts_at_1=when.strftime("%H:%M"),
            duration_minutes="50",
        ),
    )

    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["adminform"].form.errors)
    assert not Appointment.objects.exists()
