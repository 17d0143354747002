"""Benchmarks (`make bench`): the coordinator's lists at a multi-site volume."""

from __future__ import annotations

import datetime
import random
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from intake.models import Client, Inquiry, MedicalRecordNumberCounter, WaitlistEntry

INQUIRIES = 200_000
WAITING = 5_000

pytestmark = pytest.mark.django_db

NAMES = ["Abernathy", "Brightwater", "Castellan", "Delacroix", "Larkspur", "Quill"]


@pytest.fixture(scope="module")
def intake_volume(django_db_setup: Any, django_db_blocker: Any) -> None:
    """INQUIRIES inquiries over ten years and WAITING clients on the waitlist, made once
    for the module (each benchmark's own changes roll back)."""
    with django_db_blocker.unblock():
        make_volume()


def make_volume() -> None:
    rng = random.Random(7)
    now = timezone.now()
    statuses = ["new", "contacted", "screening", "eligible", "closed"]
    Inquiry.objects.bulk_create(
        (
            Inquiry(
                received_at=now - datetime.timedelta(minutes=rng.randint(0, 5_000_000)),
                first_name=f"First{n}",
                last_name=f"{rng.choice(NAMES)}{n % 5000}",
                phone=f"(555) {n % 1000:03d}-{n % 10_000:04d}",
                phone_digits=f"555{n % 1000:03d}{n % 10_000:04d}",
                status=(status := rng.choice(statuses)),
                closed_reason="unreachable" if status == "closed" else "",
                risk_level=rng.choice([None, 0, 0, 0, 1, 2, 3]),
                next_follow_up=now.date()
                + datetime.timedelta(days=rng.randint(-30, 30)),
            )
            for n in range(INQUIRIES)
        ),
        batch_size=5000,
    )
    counter, _ = MedicalRecordNumberCounter.objects.get_or_create(pk=1)
    clients = Client.objects.bulk_create(
        Client(
            mrn=f"{n + 1:08d}",
            first_name=f"Waiting{n}",
            last_name=rng.choice(NAMES),
            date_of_birth=datetime.date(1980, 1, 1),
        )
        for n in range(WAITING)
    )
    MedicalRecordNumberCounter.objects.filter(pk=1).update(last_number=WAITING)
    WaitlistEntry.objects.bulk_create(
        WaitlistEntry(
            client=client,
            level_of_care=rng.choice(["iop", "php"]),
            priority=rng.choice([1, 2, 2, 2]),
            added_on=now.date() - datetime.timedelta(days=rng.randint(0, 90)),
        )
        for client in clients
    )
    if connection.vendor == "postgresql":
        # As autovacuum would after a real load: the planner needs the statistics.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"open": "yes", "follow_up": "due"},
        {"q": "Larkspur42"},
        {"q": "5550420420"},
    ],
    ids=["worklist", "follow-ups-due", "search-name", "search-phone-digits"],
)
def test_inquiry_list(
    benchmark: Any,
    client: Any,
    coordinator: Any,
    intake_volume: None,
    query: dict[str, str],
) -> None:
    client.force_login(coordinator)
    url = reverse("admin:intake_inquiry_changelist")
    response = benchmark(client.get, url, query)
    assert response.status_code == 200


def test_waitlist_with_positions(
    benchmark: Any, client: Any, coordinator: Any, intake_volume: None
) -> None:
    client.force_login(coordinator)
    url = reverse("admin:intake_waitlistentry_changelist")
    response = benchmark(client.get, url)
    assert response.status_code == 200
    assert response.context["cl"].result_list[0].position == 1
