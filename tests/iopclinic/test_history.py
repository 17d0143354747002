"""Change history on every record that holds client data, and no cascading deletes."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import registered_models

from iopclinic import roles
from tests.admin_forms import form_data
from tests.factories import ClientFactory, EnrollmentFactory

CLINICAL_APPS = ["intake", "programs", "discharge"]
# Models in the clinical apps that hold no client data, so need no history of their own.
WITHOUT_HISTORY = {
    "intake.medicalrecordnumbercounter",
    "intake.presentingconcern",  # a seeded vocabulary
}

pytestmark = pytest.mark.django_db


def clinical_models() -> list[type[models.Model]]:
    return [
        model
        for label in CLINICAL_APPS
        for model in apps.get_app_config(label).get_models()
        # History models themselves, and proxies, which share their model's table.
        if not model.__name__.startswith("Historical") and not model._meta.proxy
    ]


def test_every_clinical_model_keeps_history() -> None:
    """A new model in intake/programs/discharge must have HistoricalRecords()."""
    with_history = {model._meta.label_lower for model in registered_models.values()}
    for model in clinical_models():
        label = model._meta.label_lower
        assert label in with_history or label in WITHOUT_HISTORY, label


def test_clinical_foreign_keys_protect() -> None:
    """Deleting a referenced row never silently deletes a clinical record."""
    for model in [*clinical_models(), apps.get_model("iopclinic", "AccessEvent")]:
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey):
                assert field.remote_field.on_delete is models.PROTECT, (
                    f"{model._meta.label}.{field.name}"
                )


def test_revert_is_disabled() -> None:
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True


def test_admin_change_leaves_history_naming_the_user(
    client: Any, coordinator: Any
) -> None:
    """A coordinator's edit through the admin is in the history, with their name."""
    record = ClientFactory(phone="555-0100")
    client.force_login(coordinator)
    url = reverse("admin:intake_client_change", args=[record.pk])
    response = client.post(
        url, form_data(client.get(url), pronouns="they/them", phone="555-0199")
    )
    assert response.status_code == 302, response.content
    latest = record.history.first()
    assert latest.history_type == "~"
    assert latest.history_user == coordinator
    assert latest.phone == "555-0199"
    assert latest.prev_record.phone == "555-0100"

    history_page = client.get(reverse("admin:intake_client_history", args=[record.pk]))
    assert history_page.status_code == 200
    assert coordinator.username in history_page.content.decode()


@pytest.mark.parametrize("role", [roles.PROGRAM_MANAGER, roles.INTAKE_COORDINATOR])
def test_a_past_version_page_never_saves(
    client: Any, make_staff: Any, role: str
) -> None:
    """django-simple-history saves a POST to a version page even with revert disabled;
    the site refuses it, for a view-only manager and a coordinator who may change the
    record alike (a change goes through the change page)."""
    enrollment = EnrollmentFactory()
    version = enrollment.history.get().history_id
    url = reverse(
        "admin:programs_enrollment_simple_history", args=[enrollment.pk, version]
    )
    client.force_login(make_staff(role))
    assert client.get(url).status_code == 200

    response = client.post(url, {"expected_end": "2030-01-01"})

    assert response.status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.expected_end is None
