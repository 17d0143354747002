"""Never lose data: no path open to a non-superuser deletes a clinical record.

For every clinical model registered in the admin (intake, programs, discharge) and
every role: the delete page refuses GET and POST, no delete action is offered, a
crafted "delete selected" POST deletes nothing, no inline offers its delete box, and
the row is still there. Records whose model refuses ``delete()`` are checked too.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse
from django.utils import timezone

from discharge.models import FollowUp
from iopclinic import roles
from iopclinic.models import AccessEvent
from programs.models import Appointment, GroupSession, PlanReview, TreatmentPlan
from tests.discharge.test_printing import make_plan
from tests.factories import (
    AssessmentFactory,
    ConsentFactory,
    EmergencyAccessFactory,
    InquiryFactory,
    SeatOfferFactory,
    StaffFactory,
    WaitlistEntryFactory,
)

pytestmark = pytest.mark.django_db

CLINICAL_APPS = {"intake", "programs", "discharge"}
# Rows of a document still being written: a draft treatment plan's problems, goals,
# objectives and interventions, and a draft discharge plan's referrals. Its author may
# remove a row while drafting (the change history keeps it); once the plan is signed or
# finalised the inline offers no delete box and the model refuses delete().
DRAFT_CONTENT = {
    "programs.planproblem",
    "programs.plangoal",
    "programs.planobjective",
    "programs.planintervention",
    "discharge.aftercarereferral",
}
NON_SUPERUSERS = [*roles.ROLES, None]  # None: staff in no role


def clinical_admins() -> list[tuple[Any, admin.ModelAdmin[Any]]]:
    return sorted(
        (
            (model, model_admin)
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in CLINICAL_APPS
        ),
        key=lambda pair: pair[0]._meta.label_lower,
    )


@pytest.fixture
def one_of_each() -> dict[str, Any]:
    """A row of every clinical model in the admin, keyed by its label."""
    therapist = StaffFactory()
    discharge_plan = make_plan(therapist)
    enrollment = discharge_plan.enrollment
    treatment = TreatmentPlan.objects.get(enrollment=enrollment)
    today = timezone.localdate()
    FollowUp.objects.create(
        plan=discharge_plan,
        days_after=7,
        due_on=today + datetime.timedelta(days=7),
        owner=therapist,
    )
    PlanReview.objects.create(
        plan=treatment, reviewed_on=today, reviewer=therapist, decision="continue"
    )
    GroupSession.objects.create(
        track=enrollment.track, service="group_therapy", starts_at=timezone.now()
    )
    Appointment.objects.create(
        enrollment=enrollment, service="individual_therapy", starts_at=timezone.now()
    )
    InquiryFactory()
    ConsentFactory(client=enrollment.client)
    WaitlistEntryFactory()
    SeatOfferFactory()
    AssessmentFactory(enrollment=enrollment)
    # Another clinician's "break the glass" to this client: kept for the review.
    EmergencyAccessFactory(client=enrollment.client)
    rows = {}
    for model, _ in clinical_admins():
        row = model._base_manager.order_by("pk").first()
        assert row is not None, f"no {model._meta.label_lower} row: add one above"
        rows[model._meta.label_lower] = row
    return rows


def still_a_draft(plan: Any) -> bool:
    if hasattr(plan, "is_finalised"):
        return not plan.is_finalised
    return bool(plan.is_draft)


def still_there(row: Any) -> bool:
    return type(row)._base_manager.filter(pk=row.pk).exists()


@pytest.mark.parametrize("role", NON_SUPERUSERS, ids=lambda role: role or "no role")
def test_no_role_deletes_any_clinical_record_through_the_admin(
    client: Client, make_staff: Any, one_of_each: dict[str, Any], role: str | None
) -> None:
    user = make_staff(role)
    client.force_login(user)
    request = RequestFactory().get("/admin/")
    request.user = user
    for model, model_admin in clinical_admins():
        label = model._meta.label_lower
        row = one_of_each[label]
        info = (model._meta.app_label, model._meta.model_name)
        delete_url = reverse("admin:{}_{}_delete".format(*info), args=[row.pk])

        assert client.get(delete_url).status_code == 403, label
        assert client.post(delete_url, {"post": "yes"}).status_code == 403, label
        assert not any("delete" in name for name in model_admin.get_actions(request))
        crafted = client.post(
            reverse("admin:{}_{}_changelist".format(*info)),
            {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
        )
        assert crafted.status_code in (200, 302, 403), label
        for inline in model_admin.get_inline_instances(request, row):
            if inline.has_delete_permission(request, row):
                part = inline.model._meta.label_lower
                assert part in DRAFT_CONTENT and still_a_draft(row), (label, part)
                assert hasattr(inline.model, "history"), part
        assert still_there(row), label
    refused = AccessEvent.objects.filter(
        user=user, action="delete_attempt", outcome="refused"
    )
    assert refused.count() == 2 * len(clinical_admins())


def test_the_only_admin_routes_that_delete_are_the_stock_delete_pages() -> None:
    """A custom view named like a delete would need its own test here."""
    names = {
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and "delete" in name
    }
    stock = {
        f"{model._meta.app_label}_{model._meta.model_name}_delete"
        for model in admin.site._registry
    }
    assert names - stock == set()


def test_kept_records_refuse_delete_in_the_model(one_of_each: dict[str, Any]) -> None:
    """Not even code deletes a treatment plan, a discharge plan, a signed plan's
    content or an audit event."""
    signed = one_of_each["programs.treatmentplan"]
    assert not signed.is_draft
    problem = signed.problems.first()
    with pytest.raises(ValidationError):
        problem.delete()
    assert still_there(problem)
    for label in ("programs.treatmentplan", "discharge.dischargeplan"):
        row = one_of_each[label]
        with pytest.raises(ValidationError):
            row.delete()
        assert still_there(row)
    event = AccessEvent.record(
        user=None,
        action=AccessEvent.Action.VIEW,
        app_label="intake",
        model_name="client",
        outcome=AccessEvent.Outcome.SHOWN,
    )
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
