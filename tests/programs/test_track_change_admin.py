"""Changing track from the enrollment list: a form, then one placement more."""

from __future__ import annotations

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
