"""Emergency access ("break the glass"): a clinician sees a client outside their
caseload for at most 4 hours, with a reason; every page seen is flagged; the privacy
officer reviews every grant."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from iopclinic.models import AccessEvent
from programs.models import EmergencyAccess, Enrollment
from tests.factories import EmergencyAccessFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

REASON = "Crisis cover: Dr Lee is away and the client called in distress."


@pytest.fixture
def therapist(make_staff: Any) -> Any:
    return make_staff(roles.THERAPIST)


@pytest.fixture
def officer(make_staff: Any) -> Any:
    return make_staff(roles.PRIVACY_OFFICER)


@pytest.fixture
def stranger_enrollment() -> Enrollment:
    """An enrollment in nobody's caseload the therapist belongs to."""
    return EnrollmentFactory()


def request_access(client: Any, mrn: str, reason: str = REASON, hours: int = 4) -> Any:
    return client.post(
        reverse("admin:programs_emergencyaccess_add"),
        {"mrn": mrn, "reason": reason, "hours": hours},
    )


# --- The rule on the model -----------------------------------------------------


def test_a_reason_of_a_few_words_is_refused() -> None:
    grant = EmergencyAccessFactory.build(reason="urgent")
    with pytest.raises(ValidationError) as error:
        grant.full_clean(exclude=["user", "client"])
    assert "reason" in error.value.message_dict


def test_more_than_four_hours_is_refused_by_clean_and_by_the_database() -> None:
    grant = EmergencyAccessFactory()
    grant.expires_at = grant.started_at + datetime.timedelta(hours=4, minutes=1)
    with pytest.raises(ValidationError, match="at most 4 hours"):
        grant.clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        grant.save(update_fields=["expires_at"])


def test_the_database_refuses_a_grant_without_a_reason() -> None:
    grant = EmergencyAccessFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        EmergencyAccess.objects.filter(pk=grant.pk).update(reason="short")


def test_active_means_started_not_expired_not_ended() -> None:
    now = timezone.now()
    current = EmergencyAccessFactory()
    EmergencyAccessFactory(
        started_at=now - datetime.timedelta(hours=5),
        expires_at=now - datetime.timedelta(hours=1),
    )
    EmergencyAccessFactory(
        started_at=now - datetime.timedelta(hours=1),
        expires_at=now + datetime.timedelta(hours=3),
        ended_at=now,
    )
    assert list(EmergencyAccess.objects.active()) == [current]


# --- Requesting it, as a therapist -----------------------------------------------


def test_a_therapist_breaks_the_glass_by_mrn_and_sees_the_client(
    client: Any, therapist: Any, stranger_enrollment: Enrollment
) -> None:
    person = stranger_enrollment.client
    client.force_login(therapist)
    change = reverse("admin:intake_client_change", args=[person.pk])
    enrollment_page = reverse(
        "admin:programs_enrollment_change", args=[stranger_enrollment.pk]
    )
    assert person.last_name not in client.get(change, follow=True).content.decode()

    response = request_access(client, person.mrn, hours=2)
    assert response.status_code == 302
    assert response["Location"] == change
    grant = EmergencyAccess.objects.get()
    assert (grant.user, grant.client, grant.reason) == (therapist, person, REASON)
    assert grant.expires_at - grant.started_at == datetime.timedelta(hours=2)

    assert client.get(change).status_code == 200
    assert client.get(enrollment_page).status_code == 200
    flagged = AccessEvent.objects.filter(emergency_access=grant, client=person)
    assert set(flagged.values_list("page", flat=True)) >= {
        "intake_client_change",
        "programs_enrollment_change",
    }
    # The request itself is on the audit trail, naming the client.
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.EMERGENCY_ACCESS, client=person, user=therapist
    ).exists()


def test_pages_of_the_own_caseload_are_not_flagged(
    client: Any, therapist: Any, stranger_enrollment: Enrollment
) -> None:
    own = EnrollmentFactory(primary_therapist=therapist)
    EmergencyAccessFactory(user=therapist, client=stranger_enrollment.client)
    client.force_login(therapist)
    client.get(reverse("admin:programs_enrollment_change", args=[own.pk]))
    event = AccessEvent.objects.get(object_id=str(own.pk), model_name="enrollment")
    assert event.emergency_access is None


def test_an_unknown_mrn_is_a_form_error(client: Any, therapist: Any) -> None:
    client.force_login(therapist)
    response = request_access(client, "99999999")
    assert response.status_code == 200
    assert "No client has this MRN." in response.content.decode()
    assert not EmergencyAccess.objects.exists()


def test_a_short_reason_is_a_form_error(
    client: Any, therapist: Any, stranger_enrollment: Enrollment
) -> None:
    client.force_login(therapist)
    response = request_access(client, stranger_enrollment.client.mrn, reason="x")
    assert response.status_code == 200
    assert "at least 20 characters" in response.content.decode()
    assert not EmergencyAccess.objects.exists()


def test_more_than_four_hours_cannot_be_asked_for(
    client: Any, therapist: Any, stranger_enrollment: Enrollment
) -> None:
    client.force_login(therapist)
    response = request_access(client, stranger_enrollment.client.mrn, hours=8)
    assert response.status_code == 200
    assert not EmergencyAccess.objects.exists()


def test_no_emergency_access_to_the_own_caseload(client: Any, therapist: Any) -> None:
    own = EnrollmentFactory(primary_therapist=therapist)
    client.force_login(therapist)
    response = request_access(client, own.client.mrn)
    assert response.status_code == 200
    assert "already in your caseload" in response.content.decode()


def test_access_ends_when_it_expires(
    client: Any, therapist: Any, stranger_enrollment: Enrollment
) -> None:
    now = timezone.now()
    EmergencyAccessFactory(
        user=therapist,
        client=stranger_enrollment.client,
        started_at=now - datetime.timedelta(hours=4, minutes=1),
        expires_at=now - datetime.timedelta(minutes=1),
    )
    client.force_login(therapist)
    url = reverse("admin:programs_enrollment_change", args=[stranger_enrollment.pk])
    response = client.get(url, follow=True)
    assert stranger_enrollment.client.last_name not in response.content.decode()
    assert not Enrollment.objects.visible_to(therapist).exists()


def test_the_therapist_ends_it_early(
    client: Any, therapist: Any, stranger_enrollment: Enrollment
) -> None:
    grant = EmergencyAccessFactory(user=therapist, client=stranger_enrollment.client)
    client.force_login(therapist)
    client.post(
        reverse("admin:programs_emergencyaccess_changelist"),
        {"action": "end_now", "_selected_action": [grant.pk]},
    )
    grant.refresh_from_db()
    assert grant.ended_at is not None
    assert not Enrollment.objects.visible_to(therapist).exists()


def test_a_therapist_sees_only_their_own_requests(
    client: Any, therapist: Any, make_staff: Any
) -> None:
    mine = EmergencyAccessFactory(user=therapist)
    theirs = EmergencyAccessFactory(user=make_staff(roles.THERAPIST))
    client.force_login(therapist)
    assert (
        client.get(
            reverse("admin:programs_emergencyaccess_change", args=[mine.pk])
        ).status_code
        == 200
    )
    other = client.get(
        reverse("admin:programs_emergencyaccess_change", args=[theirs.pk])
    )
    assert other.status_code == 302  # the admin's "does not exist" redirect


# --- Reviewing it, as the privacy officer ----------------------------------------


def test_the_officer_lists_unreviewed_grants_first(client: Any, officer: Any) -> None:
    now = timezone.now()
    reviewed = EmergencyAccessFactory(
        started_at=now,
        expires_at=now + datetime.timedelta(hours=1),
        reviewed_by=officer,
        reviewed_at=now,
        review_note="Justified.",
    )
    older = EmergencyAccessFactory(started_at=now - datetime.timedelta(days=2))
    newer = EmergencyAccessFactory(started_at=now - datetime.timedelta(days=1))
    client.force_login(officer)
    response = client.get(reverse("admin:programs_emergencyaccess_changelist"))
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows == [newer, older, reviewed]


def test_the_officer_reviews_with_a_written_finding(client: Any, officer: Any) -> None:
    grant = EmergencyAccessFactory()
    client.force_login(officer)
    url = reverse("admin:programs_emergencyaccess_change", args=[grant.pk])
    assert client.post(url, {"review_note": ""}).status_code == 200  # required
    grant.refresh_from_db()
    assert grant.reviewed_at is None
    response = client.post(url, {"review_note": "Crisis call logged; justified."})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert (grant.reviewed_by, grant.review_note) == (
        officer,
        "Crisis call logged; justified.",
    )
    assert grant.reviewed_at is not None
    # Reviewed once: the page is read-only afterwards.
    assert client.post(url, {"review_note": "Changed my mind."}).status_code == 403


def test_the_officer_marks_several_reviewed_at_once(client: Any, officer: Any) -> None:
    grants = EmergencyAccessFactory.create_batch(2)
    client.force_login(officer)
    client.post(
        reverse("admin:programs_emergencyaccess_changelist"),
        {"action": "mark_reviewed", "_selected_action": [g.pk for g in grants]},
    )
    assert not EmergencyAccess.objects.unreviewed().exists()
    assert set(EmergencyAccess.objects.values_list("reviewed_by", flat=True)) == {
        officer.pk
    }


def test_the_officer_sees_the_count_to_review_on_the_index(
    client: Any, officer: Any
) -> None:
    EmergencyAccessFactory.create_batch(3)
    client.force_login(officer)
    items = {
        item.label: item.count for item in client.get("/admin/").context["todays_work"]
    }
    assert items["Emergency accesses to review"] == 3


def test_the_officer_sees_no_client_record(client: Any, officer: Any) -> None:
    enrollment = EnrollmentFactory()
    client.force_login(officer)
    assert (
        client.get(
            reverse("admin:intake_client_change", args=[enrollment.client_id])
        ).status_code
        == 403
    )
    assert (
        client.get(reverse("admin:programs_enrollment_changelist")).status_code == 403
    )


def test_nobody_deletes_a_grant(client: Any, superuser: Any) -> None:
    grant = EmergencyAccessFactory()
    client.force_login(superuser)
    url = reverse("admin:programs_emergencyaccess_delete", args=[grant.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert EmergencyAccess.objects.filter(pk=grant.pk).exists()


def test_another_clinicians_grant_and_its_history_are_refused(
    client: Any, therapist: Any, make_staff: Any
) -> None:
    """Regression: the grant's history pages fell back to its stored versions and
    showed another clinician's grant (the client, the reason) to any clinician."""
    theirs = EmergencyAccessFactory(user=make_staff(roles.THERAPIST))
    version = theirs.history.latest().history_id
    client.force_login(therapist)
    for url in (
        reverse("admin:programs_emergencyaccess_history", args=[theirs.pk]),
        reverse(
            "admin:programs_emergencyaccess_simple_history",
            args=[theirs.pk, version],
        ),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert theirs.reason not in response.content.decode(), url


def test_add_pages_and_searches_under_emergency_access_are_flagged(
    client: Any, therapist: Any, stranger_enrollment: Enrollment
) -> None:
    """Regression: an add page (whose choices include the client of the grant) and
    an autocomplete search were written to the audit without the grant in force."""
    grant = EmergencyAccessFactory(user=therapist, client=stranger_enrollment.client)
    client.force_login(therapist)
    assert client.get(reverse("admin:programs_appointment_add")).status_code == 200
    searched = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "programs",
            "model_name": "appointment",
            "field_name": "enrollment",
            "term": stranger_enrollment.client.last_name,
        },
    )
    assert searched.status_code == 200
    assert str(stranger_enrollment.pk) in {r["id"] for r in searched.json()["results"]}
    pages = AccessEvent.objects.filter(user=therapist, emergency_access=grant)
    assert {"programs_appointment_add", "autocomplete"} <= set(
        pages.values_list("page", flat=True)
    )
