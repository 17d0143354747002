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
    """Past the threshold the list shows the planner's estimate (rows added since the
    last ANALYZE are not counted); a filtered list counts exactly. The unfiltered
    list asks in one query whatever the size."""
    make_appointments(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE programs_appointment")
    make_appointments(5)  # after the statistics: an exact count would see them
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_above", 10)
    client.force_login(superuser)
    url = reverse("admin:programs_appointment_changelist")

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    unfiltered = [query["sql"] for query in captured]  # the next request resets it
    filtered = client.get(url, {"service__exact": "individual_therapy"})

    assert response.context["cl"].result_count == 30
    assert filtered.context["cl"].result_count == 35
    assert len([sql for sql in unfiltered if "reltuples" in sql]) == 1
    assert not [
        sql
        for sql in unfiltered
        if sql.startswith("SELECT COUNT(") and "programs_appointment" in sql
    ]


@pytest.mark.postgres
@pytest.mark.django_db
def test_below_the_threshold_the_same_query_counts_exactly() -> None:
    make_appointments(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE programs_appointment")
    make_appointments(2)
    with CaptureQueriesContext(connection) as queries:
        assert EstimatedCountPaginator(Appointment.objects.all(), 2).count == 5
    assert len(queries) == 1


@pytest.mark.django_db
def test_small_tables_and_sqlite_count_exactly() -> None:
    make_appointments(3)
    paginator = EstimatedCountPaginator(Appointment.objects.all(), 2)
    assert paginator.count == 3
