"""The audit report: the privacy officer answers "who looked at this client's record
last month" from the access events list; read-only for everyone; the CSV export is
audited too."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from iopclinic.models import AccessEvent
from tests.factories import ClientFactory, EmergencyAccessFactory

pytestmark = pytest.mark.django_db

REPORT = "admin:iopclinic_accessevent_changelist"
EXPORT = "admin:iopclinic_accessevent_export"


@pytest.fixture
def officer(make_staff: Any) -> Any:
    return make_staff(roles.PRIVACY_OFFICER)


def look(user: Any, person: Any, when: datetime.datetime, **extra: Any) -> AccessEvent:
    """An event as the site writes it, at a chosen time (the trail is append-only:
    the time is given at creation)."""
    return AccessEvent.objects.create(
        occurred_at=when,
        user=user,
        action=AccessEvent.Action.VIEW,
        app_label="intake",
        model_name="client",
        object_id=str(person.pk),
        client=person,
        page="intake_client_change",
        outcome=AccessEvent.Outcome.SHOWN,
        **extra,
    )


def last_month() -> tuple[datetime.date, datetime.date, datetime.datetime]:
    first = timezone.localdate().replace(day=1)
    end = first - datetime.timedelta(days=1)
    middle = timezone.make_aware(
        datetime.datetime.combine(end.replace(day=15), datetime.time(10))
    )
    return end.replace(day=1), end, middle


def test_who_looked_at_this_client_last_month(
    client: Any, officer: Any, make_staff: Any
) -> None:
    """Search by MRN, pick "Last month": exactly last month's looks at that client."""
    person, other = ClientFactory(), ClientFactory()
    looked, today_only, elsewhere = (make_staff(roles.THERAPIST) for _ in range(3))
    start, end, middle = last_month()
    expected = look(looked, person, middle)
    look(today_only, person, timezone.now())
    look(elsewhere, other, middle)
    client.force_login(officer)
    report = client.get(reverse(REPORT))
    assert report.status_code == 200
    # The preset link the officer clicks.
    assert f"since={start:%Y-%m-%d}" in report.content.decode()
    response = client.get(
        reverse(REPORT), {"q": person.mrn, "since": start, "until": end}
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [expected]
    assert looked.username in response.content.decode()


def test_filters_by_client_user_action_outcome_and_emergency(
    client: Any, officer: Any, make_staff: Any
) -> None:
    person = ClientFactory()
    grant = EmergencyAccessFactory(client=person)
    now = timezone.now()
    flagged = look(grant.user, person, now, emergency_access=grant)
    plain = look(make_staff(roles.THERAPIST), person, now)
    client.force_login(officer)

    def listed(**query: Any) -> list[AccessEvent]:
        response = client.get(reverse(REPORT), query)
        assert response.status_code == 200, query
        return list(response.context["cl"].result_list)

    # The request itself is an event naming the client, under its own grant.
    requested = AccessEvent.objects.get(action=AccessEvent.Action.EMERGENCY_ACCESS)
    assert listed(client=person.pk) == [plain, flagged, requested]
    assert listed(user__id__exact=grant.user.pk) == [flagged, requested]
    assert listed(emergency_access="any") == [flagged, requested]
    assert listed(emergency_access=grant.pk) == [flagged, requested]
    assert listed(action__exact="view", outcome__exact="shown", client=person.pk) == [
        plain,
        flagged,
    ]
    assert listed(app_label="intake", client=person.pk) == [plain, flagged]
    assert listed(app_label="programs", client=person.pk) == [requested]
    # Sortable: by the user column (list_display[1]), ascending.
    by_user = [event.user_id or 0 for event in listed(o="1", client=person.pk)]
    assert by_user == sorted(by_user) and len(by_user) == 3


def test_who_searched_for_a_term(client: Any, officer: Any, coordinator: Any) -> None:
    client.force_login(coordinator)
    client.get(reverse("admin:intake_client_changelist"), {"q": "Hollowell"})
    client.force_login(officer)
    response = client.get(reverse(REPORT), {"q": "hollowell"})
    [event] = response.context["cl"].result_list
    assert (event.user, event.action) == (coordinator, AccessEvent.Action.LIST)


def test_a_bad_date_is_an_error_message_not_a_500(client: Any, officer: Any) -> None:
    client.force_login(officer)
    for query in (
        {"since": "yesterday"},
        {"since": "2026-02-01", "until": "2026-01-01"},
    ):
        response = client.get(reverse(REPORT), query)
        assert response.status_code in (200, 302)


def test_the_report_is_read_only_even_for_a_superuser(
    client: Any, superuser: Any
) -> None:
    event = look(superuser, ClientFactory(), timezone.now())
    client.force_login(superuser)
    assert client.get(reverse("admin:iopclinic_accessevent_add")).status_code == 403
    change = reverse("admin:iopclinic_accessevent_change", args=[event.pk])
    assert client.post(change, {"outcome": "refused"}).status_code == 403
    delete = reverse("admin:iopclinic_accessevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessEvent.objects.get(pk=event.pk).outcome == AccessEvent.Outcome.SHOWN


def test_the_csv_export_has_the_filtered_rows_and_is_audited(
    client: Any, officer: Any, make_staff: Any
) -> None:
    person, other = ClientFactory(), ClientFactory()
    therapist = make_staff(roles.THERAPIST)
    look(therapist, person, timezone.now())
    look(therapist, other, timezone.now())
    client.force_login(officer)
    response = client.get(reverse(EXPORT), {"client": person.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["when", "user"]
    assert [row[4] for row in rows[1:]] == [person.mrn]
    export = AccessEvent.objects.get(action=AccessEvent.Action.EXPORT)
    assert (export.user, export.outcome, export.model_name) == (
        officer,
        AccessEvent.Outcome.COMPLETED,
        "accessevent",
    )
    assert export.detail.startswith("1 rows;")


def test_the_export_is_refused_and_recorded_for_others(
    client: Any, make_staff: Any
) -> None:
    manager = make_staff(roles.PROGRAM_MANAGER)
    client.force_login(manager)
    assert client.get(reverse(EXPORT)).status_code == 403
    refused = AccessEvent.objects.get(action=AccessEvent.Action.EXPORT)
    assert (refused.user, refused.outcome) == (manager, AccessEvent.Outcome.REFUSED)
