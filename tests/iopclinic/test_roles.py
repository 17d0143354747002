"""The permission matrix: every role x admin model x action, allowed and denied.

EXPECTED is written out by hand on purpose: it is the specification that
iopclinic/roles.py must meet, not a copy of it. Registering a new model in the admin
without adding it here fails ``test_every_admin_model_is_in_the_matrix``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from iopclinic import roles
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

COORDINATOR = roles.INTAKE_COORDINATOR
THERAPIST = roles.THERAPIST
PSYCHIATRIST = roles.PSYCHIATRIST
MANAGER = roles.PROGRAM_MANAGER
PRIVACY = roles.PRIVACY_OFFICER
ALL_ROLES = [COORDINATOR, THERAPIST, PSYCHIATRIST, MANAGER, PRIVACY]
ACTIONS = ["view", "add", "change", "delete"]

NOTHING: dict[str, str] = dict.fromkeys(ALL_ROLES, "")

# model -> role -> allowed actions (v=view, a=add, c=change, d=delete).
EXPECTED: dict[str, dict[str, str]] = {
    "intake.inquiry": {
        COORDINATOR: "vac",
        THERAPIST: "",
        PSYCHIATRIST: "",
        MANAGER: "",
        PRIVACY: "",
    },
    "intake.client": {
        COORDINATOR: "vac",
        THERAPIST: "v",
        PSYCHIATRIST: "v",
        MANAGER: "v",
        PRIVACY: "",
    },
    "intake.consent": {
        COORDINATOR: "vac",
        THERAPIST: "v",
        PSYCHIATRIST: "v",
        MANAGER: "",
        PRIVACY: "",
    },
    "intake.waitlistentry": {
        COORDINATOR: "vac",
        THERAPIST: "",
        PSYCHIATRIST: "",
        MANAGER: "v",
        PRIVACY: "",
    },
    "intake.presentingconcern": {
        COORDINATOR: "v",
        THERAPIST: "",
        PSYCHIATRIST: "",
        MANAGER: "",
        PRIVACY: "",
    },
    # Clinicians record the override that lets a high-risk caller wait for a seat.
    "intake.highriskinquiry": {
        COORDINATOR: "",
        THERAPIST: "vc",
        PSYCHIATRIST: "vc",
        MANAGER: "",
        PRIVACY: "",
    },
    "programs.program": {
        COORDINATOR: "v",
        THERAPIST: "",
        PSYCHIATRIST: "",
        MANAGER: "vac",
        PRIVACY: "",
    },
    "programs.track": {
        COORDINATOR: "v",
        THERAPIST: "",
        PSYCHIATRIST: "",
        MANAGER: "vac",
        PRIVACY: "",
    },
    # Enrollments are created only by admission, never by the add form; therapists and
    # psychiatrists see their caseload's (test_enrollment.py).
    "programs.enrollment": {
        COORDINATOR: "vc",
        THERAPIST: "v",
        PSYCHIATRIST: "v",
        MANAGER: "v",
        PRIVACY: "",
    },
    "programs.seatoffer": {
        COORDINATOR: "vc",
        THERAPIST: "",
        PSYCHIATRIST: "",
        MANAGER: "v",
        PRIVACY: "",
    },
    # Clinicians see and take the roll of the sessions they facilitate.
    "programs.groupsession": {
        COORDINATOR: "v",
        THERAPIST: "vc",
        PSYCHIATRIST: "vc",
        MANAGER: "vac",
        PRIVACY: "",
    },
    # Individual appointments: clinicians for their caseload (or their own).
    "programs.appointment": {
        COORDINATOR: "vac",
        THERAPIST: "vac",
        PSYCHIATRIST: "vac",
        MANAGER: "v",
        PRIVACY: "",
    },
    # Treatment plans of a caseload (Enrollment.objects.visible_to): therapists and
    # psychiatrists write them, managers read them, coordinators never see them.
    "programs.treatmentplan": {
        COORDINATOR: "",
        THERAPIST: "vac",
        PSYCHIATRIST: "vac",
        MANAGER: "v",
        PRIVACY: "",
    },
    # Outcome measures: clinicians for their caseload; managers read them all;
    # coordinators none (minimum necessary).
    "programs.assessment": {
        COORDINATOR: "",
        THERAPIST: "vac",
        PSYCHIATRIST: "vac",
        MANAGER: "v",
        PRIVACY: "",
    },
    # Reviews are recorded from the plan's page (add_planreview is held by the
    # clinicians, test_plans_admin.py), never through the add form; kept as written.
    "programs.planreview": {
        COORDINATOR: "",
        THERAPIST: "v",
        PSYCHIATRIST: "v",
        MANAGER: "v",
        PRIVACY: "",
    },
    # Discharge plans of a caseload: clinicians write them (psychiatrists the
    # medication continuity), managers read them; follow-ups are scheduled by the
    # discharge, never added by hand.
    "discharge.dischargeplan": {
        COORDINATOR: "",
        THERAPIST: "vac",
        PSYCHIATRIST: "vac",
        MANAGER: "v",
        PRIVACY: "",
    },
    "discharge.followup": {
        COORDINATOR: "",
        THERAPIST: "vc",
        PSYCHIATRIST: "vc",
        MANAGER: "v",
        PRIVACY: "",
    },
    # "Break the glass": clinicians request it (and see their own requests); the
    # privacy officer reviews every one (change = review); nobody deletes one.
    "programs.emergencyaccess": {
        COORDINATOR: "",
        THERAPIST: "va",
        PSYCHIATRIST: "va",
        MANAGER: "",
        PRIVACY: "vc",
    },
    # The audit trail: read by the privacy officer, written by nobody by hand.
    "iopclinic.accessevent": {
        COORDINATOR: "",
        THERAPIST: "",
        PSYCHIATRIST: "",
        MANAGER: "",
        PRIVACY: "v",
    },
    # Staff accounts, roles and login lockouts: superuser only.
    "auth.user": NOTHING,
    "auth.group": NOTHING,
    "axes.accessattempt": NOTHING,
    "axes.accesslog": NOTHING,
    "axes.accessfailurelog": NOTHING,
}
LETTER = {"view": "v", "add": "a", "change": "c", "delete": "d"}


def registered_labels() -> set[str]:
    return {model._meta.label_lower for model in admin.site._registry}


def cells() -> list[tuple[str, str, str]]:
    return [
        (model, role, action)
        for model in sorted(EXPECTED)
        for role in ALL_ROLES
        for action in ACTIONS
    ]


def request_as(user: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def model_admin_for(label: str) -> admin.ModelAdmin[Any]:
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower == label:
            return model_admin
    raise LookupError(label)


def test_every_admin_model_is_in_the_matrix() -> None:
    """A model registered in the admin without a row here fails CI."""
    assert registered_labels() == set(EXPECTED)


@pytest.mark.parametrize(("model", "role", "action"), cells())
def test_permission_matrix_cell(
    make_staff: Any, model: str, role: str, action: str
) -> None:
    """Each role may do exactly what the matrix says on each model, nothing more."""
    user = make_staff(role)
    model_admin = model_admin_for(model)
    allowed = getattr(model_admin, f"has_{action}_permission")(request_as(user))
    assert bool(allowed) == (LETTER[action] in EXPECTED[model][role])


@pytest.mark.parametrize("model", sorted(EXPECTED))
@pytest.mark.parametrize("role", ALL_ROLES)
def test_admin_pages_answer_as_the_matrix_says(
    client: Any, make_staff: Any, model: str, role: str
) -> None:
    """Through HTTP: the list and add pages answer 200 when allowed and 403 when not."""
    client.force_login(make_staff(role))
    app_label, model_name = model.split(".")
    expected = EXPECTED[model][role]
    changelist = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert changelist.status_code == (
        200 if "v" in expected or "c" in expected else 403
    )
    add = client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    assert add.status_code == (200 if "a" in expected else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_no_role_can_delete_a_client_record(
    client: Any, make_staff: Any, role: str
) -> None:
    """Only a superuser deletes: for every role the delete page and POST are refused."""
    record = ClientFactory()
    client.force_login(make_staff(role))
    url = reverse("admin:intake_client_delete", args=[record.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert type(record).objects.filter(pk=record.pk).exists()


def test_no_role_holds_a_delete_permission() -> None:
    roles.sync_roles()
    deletes = Permission.objects.filter(
        group__name__in=ALL_ROLES, codename__startswith="delete_"
    )
    assert list(deletes) == []


def test_bulk_delete_action_is_off_for_every_model(superuser: Any) -> None:
    """Even a superuser cannot delete many records with one click."""
    for model_admin in admin.site._registry.values():
        assert "delete_selected" not in model_admin.get_actions(request_as(superuser))


def test_superuser_can_do_everything(client: Any, superuser: Any) -> None:
    client.force_login(superuser)
    assert client.get(reverse("admin:intake_client_add")).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200


def test_sync_roles_is_idempotent_and_removes_stray_permissions() -> None:
    """Syncing twice changes nothing; a permission granted by hand is taken back."""
    first = roles.sync_roles()
    therapists = Group.objects.get(name=THERAPIST)
    stray = Permission.objects.get(codename="change_client")
    therapists.permissions.add(stray)

    assert roles.sync_roles() == first
    assert not therapists.permissions.filter(pk=stray.pk).exists()
    assert Group.objects.filter(name__in=ALL_ROLES).count() == len(ALL_ROLES)


def test_setup_roles_command_creates_the_groups(capsys: Any) -> None:
    Group.objects.all().delete()
    call_command("setup_roles")
    assert set(Group.objects.values_list("name", flat=True)) == set(ALL_ROLES)
    assert "Therapist" in capsys.readouterr().out


def test_a_role_table_granting_delete_is_refused(monkeypatch: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setitem(roles.ROLES, THERAPIST, {"intake.client": {"view", "delete"}})
    with pytest.raises(ImproperlyConfigured, match="no role may delete"):
        roles.sync_roles()
