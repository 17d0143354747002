"""The site writes an AccessEvent for every record-level admin page, for every model."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from intake.models import Client
from iopclinic import roles
from iopclinic.models import AccessEvent, search_hash
from tests.admin_forms import form_data
from tests.factories import ClientFactory, EnrollmentFactory, TreatmentPlanFactory

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
    assert AccessEvent.objects.get(pk=event.pk).outcome == AccessEvent.Outcome.SHOWN


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


# --- Issue 8 item 1: the client, the IP address, list pages, fail closed ----------


@pytest.mark.parametrize(
    "make_record",
    [
        pytest.param(lambda: ClientFactory(), id="client"),
        pytest.param(lambda: EnrollmentFactory(), id="enrollment"),
        pytest.param(lambda: TreatmentPlanFactory(), id="treatmentplan"),
    ],
)
def test_the_event_names_the_client_the_record_belongs_to(
    client: Any, superuser: Any, make_record: Any
) -> None:
    """ "Everything that touched this client" is one query on the client column."""
    record = make_record()
    owner = record if isinstance(record, Client) else None
    owner = owner or getattr(record, "client", None) or record.enrollment.client
    opts = record._meta
    client.force_login(superuser)
    client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
    )
    [event] = events_for(record)
    assert event.client_id == owner.pk
    assert list(AccessEvent.objects.filter(client=owner)) == [event]


def test_every_client_record_in_the_admin_names_its_client() -> None:
    """Each admin model of intake, programs and discharge declares the lookup to
    its client, except the catalog (no client), and the lookup is a real one."""
    without_client = {
        "intake.presentingconcern",
        "programs.program",
        "programs.track",
        "programs.groupsession",
    }
    for model in admin.site._registry:
        label = model._meta.label_lower
        if model._meta.app_label not in {"intake", "programs", "discharge"}:
            continue
        path = getattr(model, "audit_client_path", None)
        if label in without_client:
            assert path is None, label
            continue
        assert path, f"{label} has no audit_client_path"
        # Compiles to SQL: the path exists.
        str(model._base_manager.values_list(path).query)


def test_the_ip_address_is_remote_addr_not_a_forwarded_header(
    client: Any, coordinator: Any, settings: Any
) -> None:
    """X-Forwarded-For is typed by whoever sends the request: it is ignored unless
    the one trusted proxy is configured, and then only the entry it appended
    counts."""
    record = ClientFactory()
    client.force_login(coordinator)
    url = reverse("admin:intake_client_change", args=[record.pk])
    client.get(url, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="6.6.6.6")
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    addresses = [event.ip_address for event in reversed(events_for(record))]
    assert addresses == ["10.1.2.3", "203.0.113.9"]


def test_a_list_page_is_logged_with_the_search_term_hashed(
    client: Any, coordinator: Any
) -> None:
    """The term is never stored in clear, yet "who searched for Smith" is one
    query."""
    client.force_login(coordinator)
    url = reverse("admin:intake_client_changelist")
    assert client.get(url, {"q": "Zebediah"}).status_code == 200
    [event] = AccessEvent.objects.filter(action=AccessEvent.Action.LIST)
    assert (event.app_label, event.model_name, event.outcome) == (
        "intake",
        "client",
        AccessEvent.Outcome.SHOWN,
    )
    assert event.search_hash == search_hash("zebediah") != ""
    assert list(AccessEvent.objects.searched_for("  ZEBEDIAH ")) == [event]
    stored = " ".join(
        str(value) for value in AccessEvent.objects.values().get(pk=event.pk).values()
    )
    assert "ebediah" not in stored.lower()


def test_an_autocomplete_search_is_logged_hashed(client: Any, coordinator: Any) -> None:
    client.force_login(coordinator)
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Quixote",
            "app_label": "intake",
            "model_name": "consent",
            "field_name": "client",
        },
    )
    assert response.status_code == 200
    event = AccessEvent.objects.get(page="autocomplete")
    assert event.action == AccessEvent.Action.LIST
    assert event.search_hash == search_hash("Quixote")


def test_if_the_event_cannot_be_written_the_record_is_not_shown(
    client: Any, coordinator: Any
) -> None:
    """Fail closed: a clear error page instead of the record."""
    record = ClientFactory(last_name="Unseenlastname")
    client.force_login(coordinator)
    url = reverse("admin:intake_client_change", args=[record.pk])
    with patch.object(AccessEvent, "record", side_effect=DatabaseError("disk full")):
        response = client.get(url)
    assert response.status_code == 503
    html = response.content.decode()
    assert "could not be shown" in html
    assert "Unseenlastname" not in html
    assert record.mrn not in html


def test_if_the_event_cannot_be_written_a_change_is_not_kept(
    client: Any, coordinator: Any
) -> None:
    record = ClientFactory(first_name="Before")
    client.force_login(coordinator)
    url = reverse("admin:intake_client_change", args=[record.pk])
    form = form_data(client.get(url), first_name="After")
    with patch.object(AccessEvent, "record", side_effect=DatabaseError("disk full")):
        response = client.post(url, form)
    assert response.status_code == 503
    record.refresh_from_db()
    assert record.first_name == "Before"


def test_if_a_refusal_cannot_be_written_nothing_is_shown_either(
    client: Any, make_staff: Any
) -> None:
    record = ClientFactory()
    client.force_login(make_staff(None))
    url = reverse("admin:intake_client_change", args=[record.pk])
    with patch.object(AccessEvent, "record", side_effect=DatabaseError("disk full")):
        assert client.get(url).status_code == 503


def test_the_queryset_refuses_bulk_update_and_delete(coordinator: Any) -> None:
    AccessEvent.record(
        user=coordinator,
        action=AccessEvent.Action.VIEW,
        app_label="intake",
        model_name="client",
        outcome=AccessEvent.Outcome.SHOWN,
    )
    with pytest.raises(ValueError, match="append-only"):
        AccessEvent.objects.update(outcome=AccessEvent.Outcome.REFUSED)
    with pytest.raises(ValueError, match="append-only"):
        AccessEvent.objects.all().delete()
    assert not AccessEvent.objects.filter(outcome=AccessEvent.Outcome.REFUSED).exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE iopclinic_accessevent SET outcome = 'refused' WHERE id = %s",
        "DELETE FROM iopclinic_accessevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete_in_sql(
    coordinator: Any, sql: str
) -> None:
    """Even raw SQL past the ORM cannot rewrite the trail (migration 0005's
    trigger)."""
    event = AccessEvent.record(
        user=coordinator,
        action=AccessEvent.Action.VIEW,
        app_label="intake",
        model_name="client",
        outcome=AccessEvent.Outcome.SHOWN,
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    assert AccessEvent.objects.get(pk=event.pk).outcome == AccessEvent.Outcome.SHOWN


def test_an_id_with_a_nul_byte_is_recorded_escaped(client: Any, superuser: Any) -> None:
    """A NUL typed into a record URL is refused and audited, not a 500 (PostgreSQL
    text cannot hold a NUL: the id is written with the byte escaped)."""
    client.force_login(superuser)
    response = client.get("/admin/auth/group/%00/history/")
    assert response.status_code in (302, 404)
    event = AccessEvent.objects.get(page="auth_group_history")
    assert event.object_id == "\\x00"
