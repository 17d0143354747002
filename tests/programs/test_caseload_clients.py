"""Clinicians see only their caseload's client records and consents; intake sees all."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from iopclinic import roles
from tests.factories import ClientFactory, ConsentFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def listed(client: Any, url_name: str) -> set[int]:
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_a_therapist_sees_only_their_caseloads_clients(
    client: Any, make_staff: Any
) -> None:
    """Clients they treat (now or before) are listed; anyone else's record is not
    reachable, by list, by id or through the consents list."""
    therapist = make_staff(roles.THERAPIST)
    mine = EnrollmentFactory(primary_therapist=therapist).client
    theirs = EnrollmentFactory().client
    stranger = ClientFactory()
    my_consent = ConsentFactory(client=mine)
    ConsentFactory(client=theirs)
    client.force_login(therapist)

    assert listed(client, "admin:intake_client_changelist") == {mine.pk}
    assert listed(client, "admin:intake_consent_changelist") == {my_consent.pk}
    for other in (theirs, stranger):
        page = client.get(reverse("admin:intake_client_change", args=[other.pk]))
        assert page.status_code == 302  # "doesn't exist": sent back to the index
    own = client.get(reverse("admin:intake_client_change", args=[mine.pk]))
    assert own.status_code == 200
    assert "episodes of care" in own.content.decode().lower()


def test_a_psychiatrist_sees_the_clients_they_prescribe_for(
    client: Any, make_staff: Any
) -> None:
    psychiatrist = make_staff(roles.PSYCHIATRIST)
    mine = EnrollmentFactory(psychiatrist=psychiatrist).client
    EnrollmentFactory()
    client.force_login(psychiatrist)
    assert listed(client, "admin:intake_client_changelist") == {mine.pk}


def test_coordinators_and_managers_see_every_client(
    client: Any, make_staff: Any
) -> None:
    treated = EnrollmentFactory().client
    new = ClientFactory()
    for role in (roles.INTAKE_COORDINATOR, roles.PROGRAM_MANAGER):
        client.force_login(make_staff(role))
        assert listed(client, "admin:intake_client_changelist") == {treated.pk, new.pk}
