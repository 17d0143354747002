"""Changing track from the enrollment list: a form, then one placement more."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse

from programs.models import Placement
from tests.factories import EnrollmentFactory, ProgramFactory, TrackFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:programs_enrollment_changelist"


def post_action(client: Any, enrollment: Any, **extra: Any) -> Any:
    data = {"action": "move_to_another_track", "_selected_action": [enrollment.pk]}
    return client.post(reverse(CHANGELIST), {**data, **extra})


def test_a_coordinator_moves_a_client_from_day_to_evening(
    client: Any, coordinator: Any
) -> None:
    """The action asks for the track, date and reason, then records the placement."""
    program = ProgramFactory()
    day = TrackFactory(program=program, name="Day", schedule="day")
    evening = TrackFactory(program=program, name="Evening", schedule="evening")
    TrackFactory(program=ProgramFactory(name="Adult PHP", level_of_care="php"))
    enrollment = EnrollmentFactory(track=day)
    client.force_login(coordinator)

    form_page = post_action(client, enrollment)
    assert form_page.status_code == 200
    offered = list(form_page.context["form"].fields["track"].queryset)
    assert offered == [evening]  # same program, not the current track

    done = post_action(
        client,
        enrollment,
        apply="1",
        track=evening.pk,
        on="2026-11-27",
        reason="Started a day job",
    )
    assert done.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.track == evening
    placement = Placement.objects.get(enrollment=enrollment)
    assert (placement.from_track, placement.to_track) == (day, evening)
    assert placement.placed_by == coordinator


def test_a_full_target_track_is_a_form_error(client: Any, coordinator: Any) -> None:
    program = ProgramFactory()
    day = TrackFactory(program=program, name="Day")
    evening = TrackFactory(program=program, name="Evening", capacity=1)
    EnrollmentFactory(track=evening)
    enrollment = EnrollmentFactory(track=day)
    client.force_login(coordinator)

    page = post_action(
        client, enrollment, apply="1", track=evening.pk, on="2026-11-27", reason="x"
    )

    assert page.status_code == 200
    assert "is full" in str(page.context["form"].errors["track"])
    enrollment.refresh_from_db()
    assert enrollment.track == day


def test_a_coordinator_admits_a_client_from_the_client_list(
    client: Any, coordinator: Any
) -> None:
    """'Admit…' on the client list: choose the track, and their waitlist entry for that
    level goes to admitted with them."""
    from intake.models import WaitlistEntry
    from programs.models import Enrollment
    from tests.factories import WaitlistEntryFactory

    track = TrackFactory(name="Evening", schedule="evening")
    entry = WaitlistEntryFactory(level_of_care="iop")
    client.force_login(coordinator)
    url = reverse("admin:intake_client_changelist")
    data = {"action": "admit", "_selected_action": [entry.client.pk]}

    assert client.post(url, data).status_code == 200  # the track form first
    response = client.post(url, {**data, "apply": "1", "track": track.pk})

    assert response.status_code == 302
    enrollment = Enrollment.objects.get(client=entry.client)
    assert enrollment.track == track
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "admitted"


def test_a_therapist_has_no_admit_action(client: Any, make_staff: Any) -> None:
    from iopclinic import roles

    client.force_login(make_staff(roles.THERAPIST))
    page = client.get(reverse("admin:intake_client_changelist"))
    assert "admit" not in dict(
        page.context["cl"].model_admin.get_action_choices(page.wsgi_request)
    )


def test_the_enrollment_page_runs_as_many_queries_for_10_placements_and_holds_as_1(
    client: Any, superuser: Any
) -> None:
    """Each placement names two tracks and who placed the client, each hold who put
    it: read with the rows, not once per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from programs.models import HoldPeriod

    enrollment = EnrollmentFactory(
        admitted_on=datetime.date.today() - datetime.timedelta(days=60)
    )
    other = TrackFactory(program=enrollment.track.program)
    url = reverse("admin:programs_enrollment_change", args=[enrollment.pk])
    client.force_login(superuser)

    def add(number: int) -> None:
        start = enrollment.admitted_on + datetime.timedelta(days=4 * number)
        Placement.objects.create(
            enrollment=enrollment,
            from_track=enrollment.track,
            to_track=other,
            on=start,
            placed_by=superuser,
        )
        HoldPeriod.objects.create(
            enrollment=enrollment,
            starts_on=start,
            keep_seat_until=start + datetime.timedelta(days=1),
            ended_on=start + datetime.timedelta(days=1),
            reason="hospital stay",
            placed_by=superuser,
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    add(0)
    queries()
    with_1 = queries()
    for number in range(1, 10):
        add(number)
    assert queries() == with_1
