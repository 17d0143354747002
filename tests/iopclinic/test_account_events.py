"""Sign-ins, failed sign-ins, lockouts and every change to what an account may do are
access events too, with who made the change when a request is being served."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from iopclinic import roles
from iopclinic.models import AccessEvent
from tests.admin_forms import form_data

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password-2026"


def events(action: str) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(action=action).order_by("id"))


def test_a_failed_sign_in_keeps_the_username_typed_never_the_password(
    client: Any,
) -> None:
    client.post(
        reverse("admin:login"),
        {"username": "robin", "password": "Secret-Typo-123"},
        REMOTE_ADDR="10.9.8.7",
    )
    [event] = events(AccessEvent.Action.LOGIN_FAILED)
    assert event.outcome == AccessEvent.Outcome.REFUSED
    assert event.detail == "username typed: robin"
    assert event.ip_address == "10.9.8.7"
    stored = " ".join(
        str(v) for v in AccessEvent.objects.values().get(pk=event.pk).values()
    )
    assert "Secret-Typo" not in stored


def test_a_lockout_is_an_event(client: Any, settings: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("admin:login"), {"username": "robin", "password": "no"})
    [event] = events(AccessEvent.Action.LOCKOUT)
    assert event.detail == "username typed: robin"


def test_signing_in_and_out_are_events(client: Any, make_staff: Any) -> None:
    user = make_staff(roles.THERAPIST)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    client.post(reverse("admin:logout"))
    assert [e.user for e in events(AccessEvent.Action.LOGIN)] == [user]
    assert [e.user for e in events(AccessEvent.Action.LOGOUT)] == [user]


def test_joining_a_role_through_the_admin_names_who_did_it(
    client: Any, superuser: Any, make_staff: Any
) -> None:
    staff = make_staff(None)
    therapists = Group.objects.get(name=roles.THERAPIST)
    client.force_login(superuser)
    url = reverse("admin:auth_user_change", args=[staff.pk])
    response = client.post(url, form_data(client.get(url), groups=[therapists.pk]))
    assert response.status_code == 302
    [event] = AccessEvent.objects.filter(
        action=AccessEvent.Action.ROLE_CHANGE, object_id=str(staff.pk)
    )
    assert (event.user, event.model_name, event.detail) == (
        superuser,
        "user",
        f"added: {roles.THERAPIST}",
    )


def test_leaving_a_role_from_the_group_side_is_an_event_per_account(
    make_staff: Any,
) -> None:
    first, second = make_staff(roles.THERAPIST), make_staff(roles.THERAPIST)
    Group.objects.get(name=roles.THERAPIST).user_set.remove(first, second)
    removed = AccessEvent.objects.filter(
        action=AccessEvent.Action.ROLE_CHANGE, detail__startswith="removed"
    )
    assert sorted(removed.values_list("object_id", flat=True)) == sorted(
        [str(first.pk), str(second.pk)]
    )


def test_permission_changes_of_accounts_and_roles_are_events(make_staff: Any) -> None:
    staff = make_staff(None)
    mark = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    permission = Permission.objects.get(codename="view_client")
    staff.user_permissions.add(permission)
    group = Group.objects.create(name="Temporary")
    group.permissions.add(permission)
    group.permissions.clear()
    details = list(
        AccessEvent.objects.filter(
            action=AccessEvent.Action.PERMISSION_CHANGE, id__gt=mark or 0
        )
        .order_by("id")
        .values_list("model_name", "detail")
    )
    assert details == [
        ("user", "added: intake.view_client"),
        ("group", "added: intake.view_client"),
        ("group", "removed: intake.view_client"),
    ]


def test_superuser_staff_and_active_flags_are_events(make_staff: Any) -> None:
    staff = make_staff(None)
    staff.is_superuser = True
    staff.is_active = False
    staff.save()
    staff.last_name = "Renamed"
    staff.save()  # no flag changed: no event
    changes = AccessEvent.objects.filter(
        action=AccessEvent.Action.PERMISSION_CHANGE, object_id=str(staff.pk)
    ).values_list("detail", flat=True)
    assert list(changes.order_by("id")) == [
        "new account: is_staff on",
        "is_superuser on, is_active off",
    ]


def test_syncing_roles_that_already_match_writes_nothing() -> None:
    roles.sync_roles()
    before = AccessEvent.objects.count()
    roles.sync_roles()
    assert AccessEvent.objects.count() == before
