"""Weekly hours and days against the program minimum, and the attendance flags."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from programs import compliance
from programs.models import Attendance, Enrollment, GroupSession
from tests.factories import EnrollmentFactory, ProgramFactory, TrackFactory

pytestmark = pytest.mark.django_db


def attend(enrollment: Any, when: datetime.datetime, status: str, minutes: int) -> None:
    session = GroupSession.objects.create(
        track=enrollment.track,
        service="group_therapy",
        starts_at=when,
        duration_minutes=180,
    )
    Attendance.objects.create(
        session=session, enrollment=enrollment, status=status, minutes_attended=minutes
    )


def last_week() -> tuple[datetime.date, datetime.datetime]:
    monday = compliance.monday_of(timezone.localdate()) - datetime.timedelta(weeks=1)
    start = datetime.datetime.combine(
        monday, datetime.time(10), tzinfo=timezone.get_default_timezone()
    )
    return monday, start


def test_the_iop_minimum_is_9_hours_over_3_days() -> None:
    """DOMAIN.md section 1: 3 days of 3 hours meets it; 2 long days do not."""
    monday, start = last_week()
    track = TrackFactory(program=ProgramFactory(name="Adult IOP", level_of_care="iop"))
    admitted = monday - datetime.timedelta(days=7)
    meets = EnrollmentFactory(track=track, admitted_on=admitted)
    two_days = EnrollmentFactory(track=track, admitted_on=admitted)
    for day in range(3):
        attend(meets, start + datetime.timedelta(days=day), "present", 180)
    for day in range(2):
        attend(two_days, start + datetime.timedelta(days=day), "present", 300)
    absent = EnrollmentFactory(track=track, admitted_on=admitted)
    EnrollmentFactory(track=track, admitted_on=monday + datetime.timedelta(days=2))

    flagged = compliance.below_minimum(Enrollment.objects.all(), monday)

    assert sorted(flagged) == sorted([two_days.pk, absent.pk])
    assert compliance.weekly_totals([meets.pk], monday) == {meets.pk: (540, 3)}


def test_two_unexcused_absences_in_14_days_are_flagged() -> None:
    _, start = last_week()
    enrollment = EnrollmentFactory(
        admitted_on=timezone.localdate() - datetime.timedelta(days=30)
    )
    attend(enrollment, start, "unexcused", 0)
    assert compliance.frequent_unexcused(Enrollment.objects.all()) == []
    attend(enrollment, start + datetime.timedelta(days=1), "unexcused", 0)
    attend(enrollment, start - datetime.timedelta(days=20), "excused", 0)
    assert compliance.frequent_unexcused(Enrollment.objects.all()) == [enrollment.pk]


def test_flags_reach_the_therapist_for_their_caseload_only(
    client: Any, make_staff: Any
) -> None:
    """The therapist's queues count their own clients; the list filter shows them."""
    therapist = make_staff(roles.THERAPIST)
    monday, _ = last_week()
    admitted = monday - datetime.timedelta(days=7)
    mine = EnrollmentFactory(primary_therapist=therapist, admitted_on=admitted)
    EnrollmentFactory(admitted_on=admitted)  # someone else's, also below minimum
    client.force_login(therapist)

    work = {i.label: i.count for i in client.get("/admin/").context["todays_work"]}
    assert work["Below the weekly minimum last week"] == 1
    listed = client.get(
        reverse("admin:programs_enrollment_changelist"), {"flag": "below_minimum"}
    )
    assert [e.pk for e in listed.context["cl"].result_list] == [mine.pk]
    page = client.get(reverse("admin:programs_enrollment_change", args=[mine.pk]))
    assert "(below)" in page.content.decode()


def test_the_index_flag_counts_are_cached_for_a_few_minutes(make_staff: Any) -> None:
    """The whole-census computation runs once, not on every visit to the index."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from iopclinic.worklist import attendance_flag_counts

    manager = make_staff(roles.PROGRAM_MANAGER)
    monday, _ = last_week()
    EnrollmentFactory(admitted_on=monday - datetime.timedelta(days=7))
    assert attendance_flag_counts(manager) == (1, 0)
    with CaptureQueriesContext(connection) as queries:
        assert attendance_flag_counts(manager) == (1, 0)
    assert len(queries) == 0
