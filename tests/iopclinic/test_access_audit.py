"""The site writes an AccessEvent for every record-level admin page, for every model."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from iopclinic import roles
from iopclinic.models import AccessEvent
from tests.admin_forms import form_data
from tests.factories import ClientFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def events_for(record: Any) -> list[AccessEvent]:
    opts = record._meta
    return list(
        AccessEvent.objects.for_record(opts.app_label, opts.model_name, str(record.pk))
    )


def test_viewing_a_record_is_recorded(client: Any, coordinator: Any) -> None:
    record = ClientFactory()
    client.force_login(coordinator)
    client.get(reverse("admin:intake_client_change", args=[record.pk]))
    [event] = events_for(record)
    assert (event.user, event.action, event.outcome) == (
        coordinator,
        AccessEvent.Action.VIEW,
        AccessEvent.Outcome.SHOWN,
    )
    assert event.page == "intake_client_change"


def test_history_pages_are_recorded(client: Any, coordinator: Any) -> None:
    record = ClientFactory()
    client.force_login(coordinator)
    client.get(reverse("admin:intake_client_history", args=[record.pk]))
    version = record.history.first()
    client.get(
        reverse(
            "admin:intake_client_simple_history", args=[record.pk, version.history_id]
        )
    )
    pages = [event.page for event in events_for(record)]
    assert sorted(pages) == ["intake_client_history", "intake_client_simple_history"]


def test_a_save_and_an_invalid_save_are_told_apart(
    client: Any, coordinator: Any
) -> None:
    record = ClientFactory()
    client.force_login(coordinator)
    url = reverse("admin:intake_client_change", args=[record.pk])
    form = form_data(client.get(url), first_name="Changed")
    client.post(url, form)
    client.post(url, {**form, "date_of_birth": "2999-01-01"})
    outcomes = [(e.action, e.outcome) for e in reversed(events_for(record))][1:]
    assert outcomes == [
        (AccessEvent.Action.CHANGE, AccessEvent.Outcome.COMPLETED),
        (AccessEvent.Action.CHANGE, AccessEvent.Outcome.INVALID),
    ]


def test_a_refused_look_is_recorded(client: Any, make_staff: Any) -> None:
    """A user without the permission gets 403, and the attempt is on the record."""
    record = ClientFactory()
    nobody = make_staff(None)
    client.force_login(nobody)
    response = client.get(reverse("admin:intake_client_change", args=[record.pk]))
    assert response.status_code == 403
    [event] = events_for(record)
    assert (event.user, event.outcome) == (nobody, AccessEvent.Outcome.REFUSED)


def test_a_delete_attempt_is_recorded(client: Any, make_staff: Any) -> None:
    record = ClientFactory()
    client.force_login(make_staff(roles.INTAKE_COORDINATOR))
    client.post(
        reverse("admin:intake_client_delete", args=[record.pk]), {"post": "yes"}
    )
    [event] = events_for(record)
    assert (event.action, event.outcome) == (
        AccessEvent.Action.DELETE_ATTEMPT,
        AccessEvent.Outcome.REFUSED,
    )


def test_anonymous_visitors_are_sent_to_login_without_an_event(client: Any) -> None:
    record = ClientFactory()
    response = client.get(reverse("admin:intake_client_change", args=[record.pk]))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert events_for(record) == []


def test_every_admin_model_is_audited(client: Any, superuser: Any) -> None:
    """The audit lives in the site: a staff account's page is covered too."""
    client.force_login(superuser)
    client.get(reverse("admin:auth_user_change", args=[superuser.pk]))
    assert events_for(superuser)[0].page == "auth_user_change"


def test_access_events_are_append_only(coordinator: Any) -> None:
    event = AccessEvent.record(
        user=coordinator,
        action=AccessEvent.Action.VIEW,
        app_label="intake",
        model_name="client",
        object_id="1",
        outcome=AccessEvent.Outcome.SHOWN,
    )
    event.outcome = AccessEvent.Outcome.REFUSED
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AccessEvent.objects.get().outcome == AccessEvent.Outcome.SHOWN


def test_a_post_to_a_row_outside_the_caseload_is_refused_not_completed(
    client: Any, make_staff: Any
) -> None:
    """The admin answers a row it hides with a redirect to the index: for a POST
    that is a refusal on the record, not a completed change."""
    enrollment = EnrollmentFactory()
    client.force_login(make_staff(roles.THERAPIST))
    url = reverse("admin:programs_enrollment_change", args=[enrollment.pk])
    response = client.post(url, {"expected_end": ""})
    assert response.status_code == 302
    [event] = events_for(enrollment)
    assert (event.action, event.outcome) == (
        AccessEvent.Action.CHANGE,
        AccessEvent.Outcome.REFUSED,
    )


def test_a_version_page_that_does_not_exist_is_recorded_as_refused(
    client: Any, coordinator: Any
) -> None:
    record = ClientFactory()
    client.force_login(coordinator)
    url = reverse("admin:intake_client_simple_history", args=[record.pk, 999999])
    assert client.get(url).status_code == 404
    [event] = events_for(record)
    assert event.outcome == AccessEvent.Outcome.REFUSED


@pytest.mark.parametrize("path", ["{bad}/history/", "{pk}/history/{bad}/"])
def test_a_malformed_id_in_a_history_link_is_not_found(
    client: Any, coordinator: Any, path: str
) -> None:
    """django-simple-history looks ids up as typed; the site answers 404 first."""
    record = ClientFactory()
    client.force_login(coordinator)
    url = "/admin/intake/client/" + path.format(bad="abc", pk=record.pk)
    assert client.get(url).status_code == 404


def test_an_id_with_a_nul_byte_is_recorded_escaped(client: Any, superuser: Any) -> None:
    """A NUL typed into a record URL is refused and audited, not a 500 (PostgreSQL
    text cannot hold a NUL: the id is written with the byte escaped)."""
    client.force_login(superuser)
    response = client.get("/admin/auth/group/%00/history/")
    assert response.status_code in (302, 404)
    event = AccessEvent.objects.get(page="auth_group_history")
    assert event.object_id == "\\x00"
