"""A small world for the authorization and hostile-input suites: one row of every
model registered in the admin, the people who may or may not see it, and every URL
the admin site serves.

The rows that belong to an enrollment belong to therapist A's caseload (therapist A
is the primary therapist, the psychiatrist user is its psychiatrist); therapist B has
a caseload of their own. A client of A's caseload carries a name that appears
nowhere else (``SENTINEL``), so a page that leaks it is caught by a text search.

A third therapist ("emergency access") has a caseload of their own and holds an
emergency access ("break the glass") in force to that client, and to no other: A's
second client (``OTHER_SENTINEL``) stays out of their reach.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db import models
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from discharge.models import AftercareReferral, DischargePlan, FollowUp
from iopclinic import roles
from programs.models import Appointment, EmergencyAccess, GroupSession
from programs.plans import record_review, sign_plan
from tests.factories import (
    AssessmentFactory,
    ConsentFactory,
    EnrollmentFactory,
    InquiryFactory,
    TreatmentPlanFactory,
    with_content,
)
from tests.iopclinic.test_admin_queries import ROW_MAKERS

SENTINEL = "Quillfeatherxq"
# Therapist A's second client, whom the emergency access does not cover.
OTHER_SENTINEL = "Brambleworthzq"

# The people who ask. Every role of iopclinic.roles.ROLES is one of them (a new role
# shows up here by itself and must then be given expectations).
THERAPIST_A = "therapist A"  # the THERAPIST role; the world's rows are in A's caseload
THERAPIST_B = "therapist B"  # the THERAPIST role, another caseload
SUPERUSER = "superuser"
INACTIVE = "inactive superuser"  # is_active=False: a disabled account opens nothing
ANONYMOUS = "anonymous"
# The THERAPIST role, another caseload, and emergency access in force to the
# SENTINEL client of therapist A's caseload ("break the glass").
EMERGENCY = "emergency access"


def role_users() -> dict[str, str | None]:
    """User kind -> the role it holds (None: no group)."""
    kinds: dict[str, str | None] = {
        role: role for role in roles.ROLES if role != roles.THERAPIST
    }
    kinds[THERAPIST_A] = roles.THERAPIST
    kinds[THERAPIST_B] = roles.THERAPIST
    kinds[EMERGENCY] = roles.THERAPIST
    kinds[SUPERUSER] = None
    kinds[INACTIVE] = None
    kinds[ANONYMOUS] = None
    return kinds


USER_KINDS = list(role_users())


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, models.Model] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    referral: AftercareReferral | None = None
    grant: EmergencyAccess | None = None  # EMERGENCY's, to the SENTINEL client
    other: dict[str, models.Model] = field(default_factory=dict)  # OTHER_SENTINEL's
    clients: dict[str, Any] = field(default_factory=dict)


def _user(kind: str, role: str | None) -> Any:
    user = User.objects.create_user(
        username=kind.replace(" ", "_"),
        is_staff=True,
        is_superuser=kind in (SUPERUSER, INACTIVE),
        is_active=kind != INACTIVE,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def build_world() -> World:
    """Users of every kind and one row of every admin model (see the docstring)."""
    roles.sync_roles()
    world = World()
    for kind, role in role_users().items():
        if kind != ANONYMOUS:
            world.users[kind] = _user(kind, role)
    a, b = world.users[THERAPIST_A], world.users[THERAPIST_B]
    psychiatrist = world.users[roles.PSYCHIATRIST]

    enrollment = EnrollmentFactory(
        client__last_name=SENTINEL, primary_therapist=a, psychiatrist=psychiatrist
    )
    EnrollmentFactory(primary_therapist=b)
    EnrollmentFactory(primary_therapist=world.users[EMERGENCY])
    other = EnrollmentFactory(client__last_name=OTHER_SENTINEL, primary_therapist=a)
    world.other = {
        "intake.client": other.client,
        "programs.enrollment": other,
        "intake.consent": ConsentFactory(client=other.client),
        "programs.assessment": AssessmentFactory(enrollment=other, administered_by=a),
    }
    now = timezone.now()
    grant = world.grant = EmergencyAccess.objects.create(
        user=world.users[EMERGENCY],
        client=enrollment.client,
        reason="Crisis cover: therapist A is away and the client called in distress.",
        started_at=now,
        expires_at=now + EmergencyAccess.MAX_DURATION,
    )
    plan = with_content(TreatmentPlanFactory(enrollment=enrollment, created_by=a))
    signed = sign_plan(plan=plan, by=a)
    review, _ = record_review(
        plan=signed,
        by=a,
        reviewed_on=timezone.localdate(),
        decision="continue",
        objectives={o.pk: ("improving", "Better") for o in signed.objectives.all()},
    )
    discharge_plan = DischargePlan.objects.create(enrollment=enrollment, prepared_by=a)
    world.referral = AftercareReferral.objects.create(
        plan=discharge_plan, kind="outpatient_therapy", organisation="Riverside"
    )
    caseload_rows: dict[str, Callable[[], models.Model]] = {
        "intake.client": lambda: enrollment.client,
        "intake.consent": lambda: ConsentFactory(client=enrollment.client),
        # Without a client record yet: its "client record" page is open to work.
        "intake.inquiry": lambda: InquiryFactory(),
        "intake.highriskinquiry": lambda: InquiryFactory(
            cssrs_intent=True, cssrs_suicidal_thoughts=True
        ),
        "programs.enrollment": lambda: enrollment,
        "programs.treatmentplan": lambda: signed,
        "programs.planreview": lambda: review,
        "programs.assessment": lambda: AssessmentFactory(
            enrollment=enrollment, administered_by=a
        ),
        "programs.groupsession": lambda: GroupSession.objects.create(
            track=enrollment.track,
            service="group_therapy",
            starts_at=timezone.now() - datetime.timedelta(days=1),
            facilitator=a,
        ),
        "programs.appointment": lambda: Appointment.objects.create(
            enrollment=enrollment,
            service="individual_therapy",
            starts_at=timezone.now() + datetime.timedelta(days=1),
            clinician=a,
        ),
        "discharge.dischargeplan": lambda: discharge_plan,
        "discharge.followup": lambda: FollowUp.objects.create(
            plan=discharge_plan, days_after=7, due_on=timezone.localdate(), owner=a
        ),
        "programs.emergencyaccess": lambda: grant,
        "auth.user": lambda: world.users[roles.INTAKE_COORDINATOR],
    }
    for model in admin.site._registry:
        label = model._meta.label_lower
        make = caseload_rows.get(label)
        row = make() if make else ROW_MAKERS[label](1)[0]
        world.rows[label] = row
        history = getattr(type(row), "history", None)
        if history is not None:
            if not history.filter(id=row.pk).exists():
                row.save()
            world.versions[label] = history.filter(id=row.pk).latest().history_id
    return world


# --- The admin's URLs ------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern of the admin site."""

    name: str | None  # the URL name; None for the admin's "<id>/" redirect
    pattern: str  # the route as written, prefix included
    model: str | None  # "app_label.model" of the ModelAdmin serving it
    view: str  # the view function's name

    @property
    def key(self) -> str:
        return self.name or f"{self.model}:{self.view}"


def _walk(
    patterns: list[URLResolver | URLPattern], prefix: str, model: str | None
) -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), model)
            continue
        callback = pattern.callback
        owner = getattr(callback, "__self__", None) or getattr(
            getattr(callback, "__wrapped__", None), "__self__", None
        )
        label = (
            owner.model._meta.label_lower
            if isinstance(owner, admin.ModelAdmin)
            else model
        )
        yield Route(
            name=pattern.name,
            pattern=prefix + str(pattern.pattern),
            model=label,
            view=getattr(callback, "__name__", type(callback).__name__),
        )


def admin_routes() -> list[Route]:
    """Every URL pattern of the admin site, each ModelAdmin's own included, tagged
    with the model whose admin serves it."""
    routes: list[Route] = []
    site_patterns = admin.site.get_urls()
    registry = {
        f"{m._meta.app_label}/{m._meta.model_name}/": m._meta.label_lower
        for m in admin.site._registry
    }
    for pattern in site_patterns:
        label = registry.get(str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            routes.extend(_walk(pattern.url_patterns, str(pattern.pattern), label))
        else:
            routes.extend(_walk([pattern], "", None))
    return routes
