"""Staff roles: one Django group each, with exactly the model permissions its work
needs.

ROLES is the single definition. ``sync_roles()`` makes the groups match it exactly
(adding and removing permissions); it runs after every ``migrate`` and from
``manage.py setup_roles``. Row-level limits (a therapist's own caseload) live on the
ModelAdmins, not here.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.management import create_contenttypes
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, transaction

INTAKE_COORDINATOR = "Intake coordinator"
THERAPIST = "Therapist"
PSYCHIATRIST = "Psychiatrist"
PROGRAM_MANAGER = "Program manager"
PRIVACY_OFFICER = "Privacy officer"

VIEW, ADD, CHANGE = "view", "add", "change"
# A custom permission: every enrollment, not only a caseload (programs.Enrollment).
VIEW_EVERY = "view_every"
# A custom permission: sign a treatment plan (programs.TreatmentPlan).
SIGN = "sign"
# The manager reports are not a model: "iopclinic.reports": {VIEW} is the custom
# permission iopclinic.view_reports (declared on AccessEvent's Meta).
REPORTS = "iopclinic.reports"

# role -> "app_label.model" -> actions. Delete is never granted: clinical records are
# kept (HIPAA, DOMAIN.md section 7); a superuser is the only one who can delete.
ROLES: dict[str, dict[str, set[str]]] = {
    INTAKE_COORDINATOR: {
        "intake.inquiry": {VIEW, ADD, CHANGE},
        "intake.client": {VIEW, ADD, CHANGE},
        "intake.consent": {VIEW, ADD, CHANGE},
        "intake.waitlistentry": {VIEW, ADD, CHANGE},
        "intake.presentingconcern": {VIEW},
        "programs.program": {VIEW},
        "programs.track": {VIEW},
        "programs.scheduleblock": {VIEW},
        "programs.enrollment": {VIEW, CHANGE, VIEW_EVERY},
        "programs.placement": {VIEW},
        "programs.holdperiod": {VIEW},
        "programs.seatoffer": {VIEW, CHANGE},
        "programs.groupsession": {VIEW},
        "programs.appointment": {VIEW, ADD, CHANGE},
    },
    # Clinicians do not work the intake queue; they see the high-risk inquiries that
    # need a clinician's decision before anyone may wait for a seat (DOMAIN.md s. 2).
    # Therapists and psychiatrists see the enrollments of their own caseload only
    # (Enrollment.objects.visible_to).
    THERAPIST: {
        # Plans of their own caseload; they sign them (DOMAIN.md section 3).
        "programs.treatmentplan": {VIEW, ADD, CHANGE, SIGN},
        "programs.planreview": {VIEW, ADD},
        # Discharge plans and the follow-ups after discharge, for their caseload.
        "discharge.dischargeplan": {VIEW, ADD, CHANGE},
        "discharge.followup": {VIEW, CHANGE},
        "intake.client": {VIEW},
        "intake.consent": {VIEW},
        "intake.highriskinquiry": {VIEW, CHANGE},
        "programs.enrollment": {VIEW},
        "programs.placement": {VIEW},
        "programs.holdperiod": {VIEW},
        # Sessions they facilitate (GroupSession.objects.visible_to): the roll.
        "programs.groupsession": {VIEW, CHANGE},
        "programs.appointment": {VIEW, ADD, CHANGE},
        # PHQ-9 / GAD-7 of their caseload, and the item 9 follow-up.
        "programs.assessment": {VIEW, ADD, CHANGE},
        # "Break the glass": a client outside the caseload, for 4 hours at most,
        # with a reason; they see their own requests (DOMAIN.md section 7).
        "programs.emergencyaccess": {VIEW, ADD},
    },
    PSYCHIATRIST: {
        # Plans of the enrollments they are assigned to; the therapist signs.
        "programs.treatmentplan": {VIEW, ADD, CHANGE},
        "programs.planreview": {VIEW, ADD},
        # Medication continuity is part of the discharge plan.
        "discharge.dischargeplan": {VIEW, ADD, CHANGE},
        "discharge.followup": {VIEW, CHANGE},
        "intake.client": {VIEW},
        "intake.consent": {VIEW},
        "intake.highriskinquiry": {VIEW, CHANGE},
        "programs.enrollment": {VIEW},
        "programs.placement": {VIEW},
        "programs.holdperiod": {VIEW},
        # Sessions they facilitate (GroupSession.objects.visible_to): the roll.
        "programs.groupsession": {VIEW, CHANGE},
        "programs.appointment": {VIEW, ADD, CHANGE},
        # PHQ-9 / GAD-7 of their caseload, and the item 9 follow-up.
        "programs.assessment": {VIEW, ADD, CHANGE},
        # "Break the glass": a client outside the caseload, for 4 hours at most,
        # with a reason; they see their own requests (DOMAIN.md section 7).
        "programs.emergencyaccess": {VIEW, ADD},
    },
    PROGRAM_MANAGER: {
        "intake.client": {VIEW},
        "intake.waitlistentry": {VIEW},
        "programs.program": {VIEW, ADD, CHANGE},
        "programs.track": {VIEW, ADD, CHANGE},
        "programs.scheduleblock": {VIEW, ADD, CHANGE},
        "programs.enrollment": {VIEW, VIEW_EVERY},
        "programs.placement": {VIEW},
        "programs.holdperiod": {VIEW},
        "programs.seatoffer": {VIEW},
        "programs.groupsession": {VIEW, ADD, CHANGE},
        "programs.appointment": {VIEW},
        "programs.treatmentplan": {VIEW},
        "programs.planreview": {VIEW},
        "discharge.dischargeplan": {VIEW},
        "discharge.followup": {VIEW},
        "programs.assessment": {VIEW},
        # Aggregates only, "<5" suppressed (iopclinic/reports/, DOMAIN.md s. 7).
        REPORTS: {VIEW},
    },
    # The access audit and the review of every emergency access (changing a grant is
    # reviewing it); nothing clinical: a client appears only as the name and MRN an
    # audit row names.
    PRIVACY_OFFICER: {
        "iopclinic.accessevent": {VIEW},
        "programs.emergencyaccess": {VIEW, CHANGE},
    },
}


def role_permissions(role: str) -> set[tuple[str, str]]:
    """(app_label, codename) pairs the role holds, e.g. ("intake", "view_client")."""
    pairs: set[tuple[str, str]] = set()
    for model_label, actions in ROLES[role].items():
        if "delete" in actions:
            raise ImproperlyConfigured(f"{role}: no role may delete ({model_label}).")
        app_label, model_name = model_label.split(".")
        pairs.update((app_label, f"{action}_{model_name}") for action in actions)
    return pairs


@transaction.atomic
def sync_roles(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Create or update every role's group so it holds exactly ROLES' permissions."""
    # Permissions are created by a post_migrate handler of their own, which may not have
    # run yet for every app: create them first so the order of handlers does not matter.
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0, using=using)
        create_permissions(app_config, verbosity=0, using=using)

    counts = {}
    for role in ROLES:
        wanted = role_permissions(role)
        permissions = list(
            Permission.objects.using(using)
            .filter(codename__in={codename for _, codename in wanted})
            .select_related("content_type")
        )
        found = {(p.content_type.app_label, p.codename): p for p in permissions}
        missing = wanted - found.keys()
        if missing:
            raise ImproperlyConfigured(
                f"{role}: unknown permissions {sorted(missing)}."
            )
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set([found[pair] for pair in wanted])
        counts[role] = len(wanted)
    return counts


def sync_roles_after_migrate(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    sync_roles(using=using)
