"""generate_scale_data: a small run of the benchmark dataset obeys every rule the
models and the database hold, and the command refuses anything but an empty
PostgreSQL database with DEBUG on (or the explicit flag)."""

from __future__ import annotations

import io
import itertools
import json
from collections import defaultdict
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from discharge.models import DischargePlan
from intake.models import (
    Client,
    Inquiry,
    InquiryStatusChange,
    MedicalRecordNumberCounter,
)
from iopclinic.scale import LOADED
from programs.instruments import INSTRUMENTS
from programs.models import (
    Assessment,
    DischargeType,
    Enrollment,
    GroupSession,
    Track,
)

pytestmark = pytest.mark.django_db

CLIENTS = 300


@pytest.fixture
def generated(settings: Any, seeded_concerns: None) -> str:
    settings.DEBUG = True
    out = io.StringIO()
    call_command("generate_scale_data", clients=CLIENTS, stdout=out)
    return out.getvalue()


def scalar(sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_counts_and_medical_record_numbers(generated: str) -> None:
    """Exactly the clients asked for, numbered densely as the MRN counter says."""
    assert Client.objects.count() == CLIENTS
    assert MedicalRecordNumberCounter.objects.get(pk=1).last_number == CLIENTS
    mrns = sorted(Client.objects.values_list("mrn", flat=True))
    assert mrns == [f"{n:08d}" for n in range(1, CLIENTS + 1)]
    assert Enrollment.objects.count() > CLIENTS  # some come back
    assert "attendance" in generated and "Done in" in generated


@pytest.mark.postgres
def test_no_track_ever_over_capacity(generated: str) -> None:
    """On every day of the ten years, and in today's seats held (active, on hold,
    scheduled), no track holds more people than it has seats."""
    over = scalar(
        """
        SELECT count(*) FROM programs_track t CROSS JOIN LATERAL (
            SELECT d, count(e.id) AS n
            FROM generate_series(
                (SELECT min(admitted_on) FROM programs_enrollment),
                current_date + 14, '1 day') d
            LEFT JOIN programs_enrollment e ON e.track_id = t.id
                AND e.admitted_on <= d
                AND coalesce(e.discharged_on, '9999-12-31') >= d
            GROUP BY d) census
        WHERE census.n > t.capacity
        """
    )
    assert over == 0
    for track in Track.objects.all():
        assert track.seats_held() <= track.capacity


@pytest.mark.postgres
def test_episodes_of_a_client_never_overlap(generated: str) -> None:
    overlapping = scalar(
        """
        SELECT count(*) FROM programs_enrollment a JOIN programs_enrollment b
          ON a.client_id = b.client_id AND a.id < b.id
         AND a.admitted_on <= coalesce(b.discharged_on, '9999-12-31')
         AND b.admitted_on <= coalesce(a.discharged_on, '9999-12-31')
        """
    )
    assert overlapping == 0


@pytest.mark.postgres
def test_attendance_is_the_roster_of_each_session(generated: str) -> None:
    """Each row is a person enrolled in the session's track that day; each roll
    taken has a row for everyone on the roster."""
    strangers = scalar(
        """
        SELECT count(*) FROM programs_attendance a
        JOIN programs_groupsession s ON s.id = a.session_id
        JOIN programs_enrollment e ON e.id = a.enrollment_id
        WHERE e.track_id <> s.track_id
           OR (s.starts_at AT TIME ZONE 'America/New_York')::date < e.admitted_on
           OR (s.starts_at AT TIME ZONE 'America/New_York')::date
              > coalesce(e.discharged_on, '9999-12-31')
           OR s.roll_taken_at IS NULL OR s.cancelled
        """
    )
    assert strangers == 0
    sessions = GroupSession.objects.filter(
        track=Track.objects.order_by("pk").first(), roll_taken_at__isnull=False
    )
    for session in sessions.order_by("-starts_at")[:20]:
        marked = set(session.attendance.values_list("enrollment_id", flat=True))
        assert marked == {enrollment.pk for enrollment in session.roster()}


@pytest.mark.postgres
def test_a_sample_of_every_model_passes_full_clean(generated: str) -> None:
    """Fields, choices, validators, clean() and constraints, as the admin checks
    them, on rows from every table the generator loads."""
    for label in LOADED:
        model = apps.get_model(label)
        rows = list(model.objects.order_by("?")[:25])
        assert rows, label
        for row in rows:
            row.full_clean()


@pytest.mark.postgres
def test_inquiries_walk_the_state_machine(generated: str) -> None:
    """Every timeline starts new and makes only legal moves, ending at the status;
    the risk level is the model's own reading of the screen."""
    steps: dict[int, list[tuple[str, str]]] = defaultdict(list)
    rows = InquiryStatusChange.objects.order_by("inquiry_id", "changed_at", "id")
    for inquiry_id, from_status, to_status in rows.values_list(
        "inquiry_id", "from_status", "to_status"
    ):
        steps[inquiry_id].append((from_status, to_status))
    for inquiry in Inquiry.objects.all():
        timeline = steps[inquiry.pk]
        assert timeline[0] == ("", "new")
        for (_, before), (after_from, after) in itertools.pairwise(timeline):
            assert after_from == before
            assert after in Inquiry.TRANSITIONS[before], (inquiry.pk, timeline)
        assert timeline[-1][1] == inquiry.status
        assert inquiry.assess_risk() == inquiry.risk_level
        if inquiry.status in ("eligible", "waitlisted", "scheduled", "admitted"):
            assert not inquiry.needs_crisis_response


@pytest.mark.postgres
def test_scores_are_the_instruments_and_every_discharge_type_occurs(
    generated: str,
) -> None:
    for assessment in Assessment.objects.all():
        instrument = INSTRUMENTS[assessment.instrument]
        assert assessment.total_score == instrument.total(assessment.answers)
        assert assessment.severity == instrument.band(assessment.total_score)
        assert assessment.safety_flag == instrument.safety_flag(assessment.answers)
    kinds = set(Enrollment.objects.values_list("discharge_type", flat=True))
    assert set(DischargeType.values) <= kinds
    discharged = Enrollment.objects.filter(status="discharged")
    assert DischargePlan.objects.filter(enrollment__in=discharged).count() == (
        discharged.count()
    )
    assert Assessment.objects.needing_safety_followup().exists()


@pytest.mark.postgres
def test_signed_plans_are_still_refused_changes(generated: str) -> None:
    """The immutability trigger was in force for the load and still is."""
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        connection.cursor().execute(
            "UPDATE programs_treatmentplan SET strengths = 'x' WHERE status = 'signed'"
        )


@pytest.mark.postgres
@pytest.mark.postgres
def test_every_benchmarked_page_answers_on_the_dataset(
    generated: str, tmp_path: Any
) -> None:
    """run_bench's pages all answer 200 (it stops on any other answer), and each
    has its query count; the naive configuration leaves the site as it found it."""
    from django.contrib import admin

    from iopclinic.benchmark.measure import naive_configuration

    counts = tmp_path / "queries.json"
    call_command("run_bench", queries_only=counts, stdout=io.StringIO())
    measured = json.loads(counts.read_text())
    assert "Enrollments: change page" in measured
    assert all(count > 0 for count in measured.values())

    def trigram_indexes() -> int:
        return scalar("SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%trgm%'")

    before = trigram_indexes()
    model_admin = admin.site._registry[Assessment]
    with naive_configuration() as dropped:
        assert len(dropped) == before and trigram_indexes() == 0
        assert model_admin.list_select_related is False
    assert trigram_indexes() == before
    assert model_admin.list_select_related == ["enrollment__client"]


@pytest.mark.postgres
def test_reuse_keeps_the_dataset_and_anything_else_is_refused(
    generated: str, settings: Any
) -> None:
    out = io.StringIO()
    call_command("generate_scale_data", clients=CLIENTS, reuse=True, stdout=out)
    assert "reused" in out.getvalue()
    with pytest.raises(CommandError, match="only fills an empty database"):
        call_command("generate_scale_data", clients=CLIENTS, stdout=io.StringIO())


@pytest.mark.postgres
def test_refuses_a_database_with_records_it_did_not_make(settings: Any) -> None:
    settings.DEBUG = True
    Client.objects.create(
        first_name="Real", last_name="Person", date_of_birth="1980-01-01"
    )
    with pytest.raises(CommandError, match="did not generate"):
        call_command("generate_scale_data", reuse=True, stdout=io.StringIO())


@pytest.mark.postgres
def test_refuses_with_debug_off_unless_told(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="i-know-this-is-not-production"):
        call_command("generate_scale_data", stdout=io.StringIO())


def test_refuses_sqlite(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused clearly, on the demo's SQLite (or anything but PostgreSQL)."""
    settings.DEBUG = True
    if connection.vendor == "postgresql":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("generate_scale_data", stdout=io.StringIO())
