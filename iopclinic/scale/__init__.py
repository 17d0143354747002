"""A multi-site provider after ten years, invented and bulk-loaded into PostgreSQL for
the benchmarks (``manage.py generate_scale_data``, ``make bench``).

At the default 50,000 clients: 20 sites, each with an IOP (day and evening tracks) and
a PHP, about 60,000 enrollments and 5 million attendance rows. Reproducible from the
seed (dates are relative to today). Every row satisfies the models' rules and the
database's constraints and triggers, which are all in force while it loads.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from . import clinical_rows, intake_rows, program_rows
from .loading import SetAside, reset_sequences
from .simulation import simulate
from .world import CLIENTS_PER_SITE, create_catalog, create_staff

DEFAULT_SEED = 20261127
LOADED = [
    "intake.Client", "intake.Consent", "intake.Inquiry", "intake.InquiryStatusChange",
    "intake.WaitlistEntry", "programs.Enrollment", "programs.Placement",
    "programs.HoldPeriod", "programs.GroupSession", "programs.Attendance",
    "programs.Appointment", "programs.Assessment", "programs.TreatmentPlan",
    "programs.PlanProblem", "programs.PlanGoal", "programs.PlanObjective",
    "programs.PlanIntervention", "programs.PlanReview", "programs.ObjectiveReview",
    "discharge.DischargePlan", "discharge.AftercareReferral", "discharge.FollowUp",
]  # fmt: skip


class Output(Protocol):
    def write(self, text: str) -> Any: ...

    def flush(self) -> Any: ...


class Phases:
    """Times each phase and collects the row counts, printing as it goes."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.started = time.perf_counter()
        self.counts: dict[str, int] = {}
        self.times: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        yield
        took = time.perf_counter() - began
        self.times[name] = took
        self.out.write(f"  {name:<44} {took:7.1f} s\n")
        self.out.flush()

    def count(self, result: int | dict[str, int], name: str = "") -> None:
        if isinstance(result, dict):
            self.counts.update(result)
        else:
            self.counts[name] = result

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


def loaded_models() -> list[Any]:
    models = [apps.get_model(label) for label in LOADED]
    return [*models, apps.get_model("intake.Inquiry").concerns.through]


def generate(*, clients: int, seed: int, out: Output) -> Phases:
    """Fill an empty PostgreSQL database in one transaction: all of it or nothing."""
    rng = random.Random(seed)
    phases = Phases(out)
    tz = timezone.get_default_timezone()
    now = timezone.now()
    site_count = max(1, round(clients / CLIENTS_PER_SITE))
    models = loaded_models()
    step = phases.phase
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Session settings only: more memory for the index rebuilds.
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL synchronous_commit = off")
        with step(f"staff and catalog ({site_count} sites)"):
            sites, _ = create_staff(site_count)
            tracks = create_catalog(sites)
        with step("simulate ten years of requests and seats"):
            world = simulate(
                rng, client_count=clients, sites=sites, tracks=tracks, now=now, tz=tz
            )
        with step("plan inquiries, plans and sessions"):
            inquiries = intake_rows.build_inquiries(rng, world, tz)
            plans = clinical_rows.schedule_plans(rng, world)
            sessions = program_rows.build_sessions(rng, world)
        set_aside = SetAside([model._meta.db_table for model in models])
        with step("set indexes and foreign keys aside"):
            # Check what the ORM wrote now: a table with deferred checks still
            # pending cannot be altered.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            set_aside.drop()
        with step("clients and consents"):
            phases.count(intake_rows.write_clients(world), "clients")
            phases.count(intake_rows.write_consents(rng, world), "consents")
        with step("inquiries, timelines and concerns"):
            phases.count(intake_rows.write_inquiries(inquiries))
        with step("waitlist"):
            phases.count(intake_rows.write_waitlist(rng, world), "waitlist entries")
        with step("enrollments, placements and holds"):
            phases.count(program_rows.write_enrollments(world))
        with step("group sessions"):
            phases.count(program_rows.write_sessions(sessions), "group sessions")
        with step("attendance"):
            phases.count(
                program_rows.write_attendance(rng, world, sessions), "attendance"
            )
        with step("appointments"):
            phases.count(program_rows.write_appointments(rng, world), "appointments")
        with step("treatment plans, contents and reviews"):
            phases.count(clinical_rows.write_plans(rng, world, plans))
        with step("assessments (PHQ-9, GAD-7)"):
            phases.count(clinical_rows.write_assessments(rng, world), "assessments")
        with step("discharge plans, referrals and follow-ups"):
            phases.count(clinical_rows.write_discharge_plans(rng, world))
        with step("rebuild indexes, check foreign keys"):
            set_aside.restore()
            reset_sequences(models)
    with step("vacuum and analyze"), connection.cursor() as cursor:
        # As autovacuum would after a real load: statistics for the planner and
        # the visibility map for index-only scans. VACUUM cannot run inside a
        # transaction (a test's): ANALYZE alone then.
        if not connection.in_atomic_block:
            for model in models:
                cursor.execute(f"VACUUM {model._meta.db_table}")
        cursor.execute("ANALYZE")
    return phases
