"""Bad or partial input on the programs admin: a clear message, never a 500."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from programs.models import Attendance, GroupSession, Program
from tests.admin_forms import form_data
from tests.factories import EnrollmentFactory, ProgramFactory, TrackFactory

pytestmark = pytest.mark.django_db


def test_a_program_added_with_empty_minimums_takes_the_defaults(
    client: Any, superuser: Any
) -> None:
    """The help text says to leave them empty: doing so saves the DOMAIN.md defaults."""
    client.force_login(superuser)
    url = reverse("admin:programs_program_add")
    response = client.post(
        url, form_data(client.get(url), name="Teen PHP", level_of_care="php")
    )
    assert response.status_code == 302
    program = Program.objects.get(name="Teen PHP")
    assert (program.minimum_hours_per_week, program.minimum_days_per_week) == (20, 5)


@pytest.mark.parametrize(
    ("url_name", "fields", "message"),
    [
        ("admin:programs_track_add", {"capacity": "0"}, "greater than or equal to 1"),
        ("admin:programs_program_add", {"minimum_days_per_week": "8"}, "less than or"),
    ],
)
def test_impossible_numbers_are_field_errors(
    client: Any, superuser: Any, url_name: str, fields: dict[str, str], message: str
) -> None:
    program = ProgramFactory()
    client.force_login(superuser)
    url = reverse(url_name)
    data = {
        "name": "X",
        "level_of_care": "iop",
        "program": program.pk,
        "schedule": "day",
    }
    response = client.post(url, form_data(client.get(url), **data, **fields))
    assert response.status_code == 200
    [field] = fields
    assert message in str(response.context["adminform"].form.errors[field])


def _roll(rows: list[tuple[int, str, str]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": str(len(rows)),
    }
    for n, (enrollment, status, minutes) in enumerate(rows):
        data |= {
            f"form-{n}-enrollment": enrollment,
            f"form-{n}-status": status,
            f"form-{n}-minutes": minutes,
        }
    return data


def test_a_roll_posted_for_another_roster_is_shown_again(
    client: Any, superuser: Any
) -> None:
    """A POST whose lines do not match today's roster saves nothing and says so."""
    track = TrackFactory()
    session = GroupSession.objects.create(
        track=track,
        service="group_therapy",
        starts_at=timezone.now() - datetime.timedelta(hours=3),
    )
    first, second = EnrollmentFactory.create_batch(
        2, track=track, admitted_on=session.day
    )
    client.force_login(superuser)
    url = reverse("admin:programs_groupsession_attendance", args=[session.pk])

    short = client.post(url, _roll([(first.pk, "present", "")]))
    negative = client.post(
        url,
        _roll([(first.pk, "present", "-5"), (second.pk, "present", "")]),
    )

    assert short.status_code == 200
    texts = [str(m) for m in get_messages(short.wsgi_request)]
    assert any("roster changed" in text for text in texts)
    assert negative.status_code == 200
    assert negative.context["formset"].errors[0]["minutes"]
    assert not Attendance.objects.exists()
