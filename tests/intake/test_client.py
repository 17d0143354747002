"""Client records: medical record numbers and the checks on what a coordinator types."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from intake.models import Client
from tests.admin_forms import form_data
from tests.factories import ClientFactory


@pytest.mark.django_db
def test_medical_record_numbers_are_given_in_order_and_never_reused() -> None:
    first, second = ClientFactory(), ClientFactory()
    assert int(second.mrn) == int(first.mrn) + 1
    # Removing a record (a superuser's act) does not free its number.
    second.delete()
    assert int(ClientFactory().mrn) == int(first.mrn) + 2


@pytest.mark.django_db
def test_the_mrn_cannot_be_typed_in_the_admin(client: Any, coordinator: Any) -> None:
    client.force_login(coordinator)
    url = reverse("admin:intake_client_add")
    response = client.post(
        url,
        form_data(
            client.get(url),
            mrn="99999999",
            first_name="Robin",
            last_name="Larkspur",
            date_of_birth="1990-05-01",
        ),
    )
    assert response.status_code == 302
    assert Client.objects.get().mrn != "99999999"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "future", "in the future"),
        ("date_of_birth", "1850-01-01", "over 120 years old"),
        ("phone", "call me", "Enter a phone number"),
        ("email", "not-an-email", "valid email"),
    ],
)
def test_bad_input_is_a_form_error_not_a_500(
    client: Any, coordinator: Any, field: str, value: str, message: str
) -> None:
    if value == "future":
        value = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    client.force_login(coordinator)
    form = {
        "first_name": "Robin",
        "last_name": "Larkspur",
        "date_of_birth": "1990-05-01",
    }
    response = client.post(reverse("admin:intake_client_add"), {**form, field: value})
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors[field])
    assert not Client.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_never_duplicates_an_mrn() -> None:
    """20 threads, each on its own connection, create clients at once: 20 MRNs."""
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def create(number: int) -> None:
        try:
            barrier.wait()
            ClientFactory(last_name=f"Thread{number}")
        except BaseException as error:  # reported below, with the thread's failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    mrns = list(Client.objects.values_list("mrn", flat=True))
    assert len(mrns) == len(set(mrns)) == 20
