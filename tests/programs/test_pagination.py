"""Very large admin lists read PostgreSQL's row estimate instead of counting."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from programs.models import Appointment
from programs.pagination import EstimatedCountPaginator
from tests.factories import EnrollmentFactory


def make_appointments(count: int) -> None:
    enrollment = EnrollmentFactory()
    Appointment.objects.bulk_create(
        Appointment(
            enrollment=enrollment,
            service="individual_therapy",
            starts_at=timezone.now() + datetime.timedelta(hours=n),
        )
        for n in range(count)
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_unfiltered_huge_list_does_not_count_every_row(
    client: Any, superuser: Any, monkeypatch: Any
) -> None:
    """Past the threshold the list runs no COUNT(*); a filtered list counts exactly."""
    make_appointments(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE programs_appointment")
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_above", 10)
    client.force_login(superuser)
    url = reverse("admin:programs_appointment_changelist")

    with CaptureQueriesContext(connection) as unfiltered:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as filtered:
        assert (
            client.get(url, {"service__exact": "individual_therapy"}).status_code == 200
        )

    counts = [q["sql"] for q in unfiltered if "COUNT(" in q["sql"].upper()]
    assert not [sql for sql in counts if "programs_appointment" in sql]
    assert any("reltuples" in q["sql"] for q in unfiltered)
    assert any("COUNT(" in q["sql"].upper() for q in filtered)


@pytest.mark.django_db
def test_small_tables_and_sqlite_count_exactly() -> None:
    make_appointments(3)
    paginator = EstimatedCountPaginator(Appointment.objects.all(), 2)
    assert paginator.count == 3
