"""The demo setup: one login per role, safe to repeat, never with DEBUG off."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from intake.models import Client, Inquiry, WaitlistEntry
from iopclinic import roles
from iopclinic.models import AccessEvent
from programs.models import Assessment, EmergencyAccess, Enrollment, Track
from programs.outcomes import outcome_summary

pytestmark = pytest.mark.django_db


def test_demo_refuses_when_debug_is_off(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only created with DEBUG on"):
        call_command("load_demo")
    assert not get_user_model().objects.exists()


def test_demo_creates_one_login_per_role_and_is_safe_to_repeat(settings: Any) -> None:
    settings.DEBUG = True
    call_command("load_demo", clients=5, inquiries=40)
    call_command("load_demo", clients=5, inquiries=40)
    users = get_user_model().objects.all()
    groups = {user.username: [g.name for g in user.groups.all()] for user in users}
    assert groups == {
        "admin": [],
        "intake": [roles.INTAKE_COORDINATOR],
        "therapist": [roles.THERAPIST],
        "therapist2": [roles.THERAPIST],
        "psychiatrist": [roles.PSYCHIATRIST],
        "manager": [roles.PROGRAM_MANAGER],
        "privacy": [roles.PRIVACY_OFFICER],
    }
    assert users.get(username="admin").is_superuser
    # Records are made once, however often the command runs.
    assert Inquiry.objects.count() == 40
    assert Client.objects.count() >= 5
    statuses = set(Inquiry.objects.values_list("status", flat=True))
    assert {"new", "admitted", "closed"} <= statuses
    assert WaitlistEntry.objects.exists()
    assert Enrollment.objects.open().exists()
    assert Track.objects.filter(schedule="evening").exists()
    # The privacy officer's report and review list have something to show.
    [grant] = EmergencyAccess.objects.unreviewed()
    assert grant.user.username == "therapist2"
    assert (
        AccessEvent.objects.filter(emergency_access=grant, action="view").count() == 2
    )
    assert AccessEvent.objects.filter(client__isnull=False).count() > 40


def test_demo_outcome_scores(settings: Any) -> None:
    """Weekly PHQ-9 and GAD-7 for everyone admitted, most improving, not all; exactly
    one positive item 9 waiting for follow-up, on the demo therapist's caseload."""
    settings.DEBUG = True
    call_command("load_demo", clients=5, inquiries=60)
    therapist = get_user_model().objects.get(username="therapist")
    waiting = Assessment.objects.needing_safety_followup()
    assert waiting.count() == 1
    assert (
        Assessment.objects.visible_to(therapist).needing_safety_followup().count() == 1
    )
    assert waiting.get().enrollment.status == "active"
    assert Assessment.objects.filter(safety_flag=True).count() == 3
    changes = [
        outcome.change
        for enrollment in Enrollment.objects.exclude(status="scheduled")
        for outcome in outcome_summary(enrollment).values()
        if outcome.change is not None
    ]
    improved = sum(change < 0 for change in changes)
    assert improved > len(changes) / 2
    assert improved < len(changes)
    assert all(row.history.exists() for row in Assessment.objects.all()[:5])
