"""Every admin list and change page runs as many queries for 2 rows as for 20.

ROW_MAKERS names a way to create rows for every model registered in the admin; a model
registered without one fails ``test_every_admin_model_has_a_row_maker``.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from discharge.models import DischargePlan, FollowUp
from intake.models import PresentingConcern
from iopclinic.models import AccessEvent
from programs.models import Appointment, GroupSession, Program
from programs.plans import record_review, sign_plan
from tests.factories import (
    AssessmentFactory,
    ClientFactory,
    ConsentFactory,
    EmergencyAccessFactory,
    EnrollmentFactory,
    InquiryFactory,
    SeatOfferFactory,
    TrackFactory,
    TreatmentPlanFactory,
    WaitlistEntryFactory,
    with_content,
)

pytestmark = pytest.mark.django_db

serial = itertools.count()


def users(count: int) -> list[Any]:
    start = User.objects.count()
    return [
        User.objects.create_user(f"user{start + n}", is_staff=True)
        for n in range(count)
    ]


def groups(count: int) -> list[Any]:
    start = Group.objects.count()
    return [Group.objects.create(name=f"group {start + n}") for n in range(count)]


def access_events(count: int) -> list[Any]:
    """Each with its own user, client and emergency access: the list names all
    three."""
    grants = EmergencyAccessFactory.create_batch(count)
    return [
        AccessEvent.record(
            user=grant.user,
            action=AccessEvent.Action.VIEW,
            app_label="intake",
            model_name="client",
            object_id=str(grant.client_id),
            client_id=grant.client_id,
            emergency_access_id=grant.pk,
            ip_address="10.0.0.1",
            outcome=AccessEvent.Outcome.SHOWN,
        )
        for grant in grants
    ]


def emergency_accesses(count: int) -> list[Any]:
    """Half of them reviewed: the list shows reviewer and review time."""
    grants = EmergencyAccessFactory.create_batch(count)
    reviewer = users(1)[0]
    for grant in grants[::2]:
        grant.reviewed_by = reviewer
        grant.reviewed_at = timezone.now()
        grant.review_note = "Justified."
        grant.save()
    return grants


def axes_rows(model: Any, **extra: Any) -> Callable[[int], list[Any]]:
    def make(count: int) -> list[Any]:
        return [
            model.objects.create(
                username=f"someone{next(serial)}",
                ip_address="10.0.0.1",
                user_agent="test",
                http_accept="*/*",
                path_info="/admin/login/",
                attempt_time=timezone.now(),
                **extra,
            )
            for _ in range(count)
        ]

    return make


def concerns(count: int) -> list[Any]:
    start = PresentingConcern.objects.count()
    return [
        PresentingConcern.objects.create(
            code=f"c{start + n}", name=f"Concern {start + n}"
        )
        for n in range(count)
    ]


def programs(count: int) -> list[Any]:
    start = Program.objects.count()
    return [
        Program.objects.create(name=f"Program {start + n}", level_of_care="iop")
        for n in range(count)
    ]


def group_sessions(count: int) -> list[Any]:
    track = TrackFactory()
    start = timezone.now() - datetime.timedelta(days=count + 1)
    return [
        GroupSession.objects.create(
            track=track,
            service="group_therapy",
            starts_at=start + datetime.timedelta(days=n),
        )
        for n in range(count)
    ]


def appointments(count: int) -> list[Any]:
    enrollment = EnrollmentFactory()
    return [
        Appointment.objects.create(
            enrollment=enrollment,
            service="individual_therapy",
            starts_at=timezone.now() + datetime.timedelta(days=n),
        )
        for n in range(count)
    ]


def assessments(count: int) -> list[Any]:
    """A weekly series of one enrollment, alternating PHQ-9 and GAD-7; one positive
    item 9 (the list shows the flag)."""
    start = timezone.localdate() - datetime.timedelta(days=count * 7)
    enrollment = EnrollmentFactory(admitted_on=start)
    return [
        AssessmentFactory(
            enrollment=enrollment,
            instrument="phq9" if n % 2 else "gad7",
            administered_on=start + datetime.timedelta(days=7 * n),
            total=n % 20,
            item9=1 if n % 2 and n % 7 == 1 else 0,
        )
        for n in range(count)
    ]


def high_risk_inquiries(count: int) -> list[Any]:
    return InquiryFactory.create_batch(
        count, cssrs_intent=True, cssrs_suicidal_thoughts=True
    )


def treatment_plans(count: int) -> list[Any]:
    return [with_content(plan) for plan in TreatmentPlanFactory.create_batch(count)]


def plan_reviews(count: int) -> list[Any]:
    plan = with_content(TreatmentPlanFactory())
    signed = sign_plan(plan=plan, by=plan.created_by)
    today = timezone.localdate()
    return [
        record_review(
            plan=signed,
            by=plan.created_by,
            reviewed_on=today,
            decision="continue",
            objectives={
                objective.pk: ("improving", "Better")
                for objective in signed.objectives.all()
            },
        )[0]
        for _ in range(count)
    ]


def discharge_plans(count: int) -> list[Any]:
    return [
        DischargePlan.objects.create(enrollment=enrollment, prepared_by=staff)
        for enrollment, staff in zip(
            EnrollmentFactory.create_batch(count), users(count), strict=True
        )
    ]


def follow_ups(count: int) -> list[Any]:
    staff = users(1)[0]
    plans = discharge_plans(count)
    return [
        FollowUp.objects.create(
            plan=plan, days_after=7, due_on=timezone.localdate(), owner=staff
        )
        for plan in plans
    ]


ROW_MAKERS: dict[str, Callable[[int], list[Any]]] = {
    "intake.client": ClientFactory.create_batch,
    "intake.inquiry": InquiryFactory.create_batch,
    "intake.highriskinquiry": high_risk_inquiries,
    "intake.consent": ConsentFactory.create_batch,
    "intake.waitlistentry": WaitlistEntryFactory.create_batch,
    "intake.presentingconcern": concerns,
    "programs.program": programs,
    "programs.track": TrackFactory.create_batch,
    "programs.enrollment": EnrollmentFactory.create_batch,
    "programs.seatoffer": SeatOfferFactory.create_batch,
    "programs.groupsession": group_sessions,
    "programs.appointment": appointments,
    "programs.treatmentplan": treatment_plans,
    "programs.planreview": plan_reviews,
    "discharge.dischargeplan": discharge_plans,
    "discharge.followup": follow_ups,
    "programs.assessment": assessments,
    "auth.user": users,
    "auth.group": groups,
    "iopclinic.accessevent": access_events,
    "programs.emergencyaccess": emergency_accesses,
    "axes.accessattempt": axes_rows(
        AccessAttempt, get_data="", post_data="", failures_since_start=1
    ),
    "axes.accesslog": axes_rows(AccessLog),
    "axes.accessfailurelog": axes_rows(AccessFailureLog),
}


def queries_for(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_every_admin_model_has_a_row_maker() -> None:
    assert {model._meta.label_lower for model in admin.site._registry} == set(
        ROW_MAKERS
    )


@pytest.mark.parametrize("label", sorted(ROW_MAKERS))
@pytest.mark.parametrize("page", ["changelist", "change"])
def test_page_queries_do_not_grow_with_rows(
    client: Any, superuser: Any, label: str, page: str
) -> None:
    client.force_login(superuser)
    app_label, model_name = label.split(".")
    first = ROW_MAKERS[label](2)[0]
    args = [first.pk] if page == "change" else []
    url = reverse(f"admin:{app_label}_{model_name}_{page}", args=args)
    queries_for(client, url)  # warm per-process caches (content types, permissions)
    with_2 = queries_for(client, url)
    ROW_MAKERS[label](18)
    assert queries_for(client, url) == with_2


def test_index_queries_do_not_grow_with_inquiries(
    client: Any, coordinator: Any
) -> None:
    """The index's "Today's work" counts in SQL: as many queries for 2 as for 20."""
    client.force_login(coordinator)
    InquiryFactory.create_batch(2, assigned_coordinator=coordinator)
    queries_for(client, "/admin/")
    with_2 = queries_for(client, "/admin/")
    InquiryFactory.create_batch(18, assigned_coordinator=coordinator)
    assert queries_for(client, "/admin/") == with_2
