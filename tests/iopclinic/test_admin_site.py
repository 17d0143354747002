"""The branded site, its index grouped by workflow, and bounded query counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from iopclinic import roles
from iopclinic.models import AccessEvent
from iopclinic.sites import ClinicAdminSite
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def same_queries_for_2_and_20_rows(
    client: Any, make_rows: Callable[[int], Any], url: Callable[[], str]
) -> None:
    make_rows(2)
    count_queries(client, url())  # warm per-process caches (content types, session)
    with_2 = count_queries(client, url())
    make_rows(18)
    with_20 = count_queries(client, url())
    assert with_2 == with_20


def test_clinic_site_is_the_default_admin_site(settings: Any, client: Any) -> None:
    assert isinstance(admin.site._wrapped, ClinicAdminSite)  # type: ignore[attr-defined]
    settings.CLINIC_NAME = "Riverbend Behavioral Health"
    assert (
        "Riverbend Behavioral Health"
        in client.get(reverse("admin:login")).content.decode()
    )


@pytest.mark.parametrize(
    ("role", "sections"),
    [
        (roles.INTAKE_COORDINATOR, ["Intake", "Programs & treatment"]),
        (roles.THERAPIST, ["Intake", "Programs & treatment", "Discharge"]),
        (
            roles.PROGRAM_MANAGER,
            ["Intake", "Programs & treatment", "Discharge", "Reports"],
        ),
        (
            None,
            [
                "Intake",
                "Programs & treatment",
                "Discharge",
                "Reports",
                "Staff & access",
            ],
        ),
    ],
)
def test_index_is_grouped_by_workflow(
    client: Any, make_staff: Any, role: str | None, sections: list[str]
) -> None:
    user = make_staff(role, superuser=role is None)
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert [app["name"] for app in response.context["app_list"]] == sections


def test_staff_section_holds_users_groups_audit_and_lockouts(
    client: Any, superuser: Any
) -> None:
    client.force_login(superuser)
    app_list = client.get(reverse("admin:index")).context["app_list"]
    staff = next(app for app in app_list if app["name"] == "Staff & access")
    names = {model["object_name"] for model in staff["models"]}
    assert {"User", "Group", "AccessEvent", "AccessAttempt"} <= names


def test_client_list_queries_do_not_grow_with_rows(
    client: Any, coordinator: Any
) -> None:
    client.force_login(coordinator)
    same_queries_for_2_and_20_rows(
        client,
        ClientFactory.create_batch,
        lambda: reverse("admin:intake_client_changelist"),
    )


def test_client_change_page_queries_do_not_grow_with_history(
    client: Any, coordinator: Any
) -> None:
    client.force_login(coordinator)
    record = ClientFactory()

    def edits(count: int) -> None:
        for number in range(count):
            record.phone = f"555-{number:04d}"
            record.save()

    same_queries_for_2_and_20_rows(
        client, edits, lambda: reverse("admin:intake_client_change", args=[record.pk])
    )


def test_client_history_page_queries_do_not_grow_with_versions(
    client: Any, coordinator: Any
) -> None:
    client.force_login(coordinator)
    record = ClientFactory()

    def edits(count: int) -> None:
        for number in range(count):
            record.pronouns = f"v{number}"
            record.save()

    same_queries_for_2_and_20_rows(
        client, edits, lambda: reverse("admin:intake_client_history", args=[record.pk])
    )


def test_access_event_change_page_is_read_only(client: Any, superuser: Any) -> None:
    client.force_login(superuser)
    event = AccessEvent.record(
        user=superuser,
        action=AccessEvent.Action.VIEW,
        app_label="intake",
        model_name="client",
        object_id="7",
        outcome=AccessEvent.Outcome.SHOWN,
    )
    url = reverse("admin:iopclinic_accessevent_change", args=[event.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(url, {"outcome": "refused"}).status_code == 403


def test_index_shows_each_role_its_own_queues(client: Any, make_staff: Any) -> None:
    """A coordinator sees their open inquiries and follow-ups due; a therapist the
    high-risk callers awaiting a clinician; counts come from the data."""
    from intake.models import Inquiry
    from tests.factories import InquiryFactory

    coordinator = make_staff(roles.INTAKE_COORDINATOR)
    InquiryFactory.create_batch(2, assigned_coordinator=coordinator)
    InquiryFactory(cssrs_suicidal_thoughts=True, cssrs_intent=True)
    closed = InquiryFactory(assigned_coordinator=coordinator)
    Inquiry.objects.filter(pk=closed.pk).update(
        status="closed", closed_reason="declined"
    )

    client.force_login(coordinator)
    work = {
        item.label: item.count for item in client.get("/admin/").context["todays_work"]
    }
    assert work["My open inquiries"] == 2
    assert work["Open high-risk inquiries"] == 1

    client.force_login(make_staff(roles.THERAPIST))
    work = {
        item.label: item.count for item in client.get("/admin/").context["todays_work"]
    }
    assert work["High-risk inquiries awaiting a clinician"] == 1
    assert "My open inquiries" not in work
