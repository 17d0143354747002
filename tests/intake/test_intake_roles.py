"""Who may open which intake pages: coordinators, therapists, program managers."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from iopclinic import roles
from tests.factories import ClientFactory, InquiryFactory, WaitlistEntryFactory

INTAKE_MODELS = ["inquiry", "client", "consent", "waitlistentry"]


def url(model: str, page: str) -> str:
    return reverse(f"admin:intake_{model}_{page}")


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["changelist", "add"])
@pytest.mark.parametrize("model", INTAKE_MODELS)
def test_a_coordinator_opens_every_intake_list_and_add_page(
    client: Any, coordinator: Any, model: str, page: str
) -> None:
    """An intake coordinator gets 200 on each intake list and add page."""
    WaitlistEntryFactory()
    InquiryFactory()
    client.force_login(coordinator)
    assert client.get(url(model, page)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        ("inquiry", "changelist"),
        ("inquiry", "add"),
        ("waitlistentry", "changelist"),
        ("waitlistentry", "add"),
    ],
)
def test_a_therapist_cannot_open_the_intake_queue_or_the_waitlist(
    client: Any, make_staff: Any, path: tuple[str, str]
) -> None:
    """A therapist is refused (403) the inquiry worklist and the waitlist."""
    client.force_login(make_staff(roles.THERAPIST))
    assert client.get(url(*path)).status_code == 403


@pytest.mark.django_db
def test_a_therapist_may_read_clients_but_not_add_them(
    client: Any, make_staff: Any
) -> None:
    """A therapist views the client list (200) but may not add a client (403)."""
    ClientFactory()
    client.force_login(make_staff(roles.THERAPIST))
    assert client.get(url("client", "changelist")).status_code == 200
    assert client.get(url("client", "add")).status_code == 403


@pytest.mark.django_db
def test_a_program_manager_views_the_waitlist_but_cannot_add(
    client: Any, make_staff: Any
) -> None:
    """A program manager sees the waitlist and an entry but gets 403 adding one."""
    entry = WaitlistEntryFactory()
    client.force_login(make_staff(roles.PROGRAM_MANAGER))

    listing = client.get(url("waitlistentry", "changelist"))
    assert listing.status_code == 200
    assert [e.pk for e in listing.context["cl"].result_list] == [entry.pk]
    change = reverse("admin:intake_waitlistentry_change", args=[entry.pk])
    assert client.get(change).status_code == 200
    assert client.get(url("waitlistentry", "add")).status_code == 403


@pytest.mark.django_db
def test_a_program_manager_cannot_change_the_waitlist(
    client: Any, make_staff: Any
) -> None:
    """A view-only program manager cannot run a removal action on an entry."""
    entry = WaitlistEntryFactory()
    client.force_login(make_staff(roles.PROGRAM_MANAGER))

    client.post(
        url("waitlistentry", "changelist"),
        {"action": "remove_unreachable", "_selected_action": [str(entry.pk)]},
    )

    entry.refresh_from_db()
    assert entry.is_open


@pytest.mark.django_db
def test_a_program_manager_cannot_open_inquiries(client: Any, make_staff: Any) -> None:
    """Inquiries are the coordinators' work: a program manager gets 403."""
    client.force_login(make_staff(roles.PROGRAM_MANAGER))
    assert client.get(url("inquiry", "changelist")).status_code == 403


@pytest.mark.django_db
def test_the_client_record_page_needs_a_coordinator(
    client: Any, make_staff: Any
) -> None:
    """Creating a client from an inquiry is refused (403) to a therapist."""
    inquiry = InquiryFactory()
    client.force_login(make_staff(roles.THERAPIST))
    record = reverse("admin:intake_inquiry_client_record", args=[inquiry.pk])
    assert client.post(record, {"create": "1"}).status_code == 403
    inquiry.refresh_from_db()
    assert inquiry.client is None
