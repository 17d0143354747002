"""Benchmarks (`make bench`): admin pages at clinic scale. Never part of `make test`.

Speed is measured here with pytest-benchmark's statistics, never in a timed test.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from intake.models import Client, MedicalRecordNumberCounter

CLIENTS = 20_000

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_clients(db: Any) -> None:
    """Bulk-create CLIENTS records with numbers taken the way the app takes them."""
    counter, _ = MedicalRecordNumberCounter.objects.get_or_create(pk=1)
    Client.objects.bulk_create(
        Client(
            mrn=f"{counter.last_number + n:08d}",
            first_name=f"First{n}",
            last_name=f"Last{n % 997}",
            date_of_birth=f"19{50 + n % 50}-0{1 + n % 9}-1{n % 9}",
            phone=f"555-{n % 10_000:04d}",
        )
        for n in range(1, CLIENTS + 1)
    )
    MedicalRecordNumberCounter.objects.filter(pk=1).update(
        last_number=counter.last_number + CLIENTS
    )


def test_client_list(
    benchmark: Any, client: Any, coordinator: Any, many_clients: None
) -> None:
    client.force_login(coordinator)
    url = reverse("admin:intake_client_changelist")
    response = benchmark(client.get, url)
    assert response.status_code == 200


def test_client_search(
    benchmark: Any, client: Any, coordinator: Any, many_clients: None
) -> None:
    client.force_login(coordinator)
    url = reverse("admin:intake_client_changelist")
    response = benchmark(client.get, url, {"q": "Last42"})
    assert response.status_code == 200


def test_client_change_page_with_audit(
    benchmark: Any, client: Any, coordinator: Any, many_clients: None
) -> None:
    """The change page, including the access event the site writes for each view."""
    client.force_login(coordinator)
    record = Client.objects.order_by("pk")[CLIENTS // 2]
    url = reverse("admin:intake_client_change", args=[record.pk])
    response = benchmark(client.get, url)
    assert response.status_code == 200
