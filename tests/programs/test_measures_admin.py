"""Recording outcome measures in the admin: the form built from the instrument, bad
input as form errors, the item 9 banner and follow-up, the outcome panel, and the
caseload rule on every route."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from programs.models import Assessment
from tests.admin_forms import form_data
from tests.factories import AssessmentFactory, EnrollmentFactory, answers_for

pytestmark = pytest.mark.django_db

ADD = reverse("admin:programs_assessment_add")
LIST = reverse("admin:programs_assessment_changelist")


def add_url(instrument: str, enrollment: Any = None) -> str:
    query = f"?instrument={instrument}"
    return f"{ADD}{query}&enrollment={enrollment.pk}" if enrollment else f"{ADD}{query}"


def items(answers: list[Any]) -> dict[str, Any]:
    return {f"item_{n}": str(answer) for n, answer in enumerate(answers, start=1)}


def record(
    client: Any, enrollment: Any, instrument: str, answers: list[Any], **fields: Any
) -> Any:
    """Post the add form as a browser would, with these answers."""
    url = add_url(instrument, enrollment)
    data = form_data(
        client.get(url),
        enrollment=enrollment.pk,
        administered_on=timezone.localdate().isoformat(),
        **items(answers),
    )
    data.update(fields)
    return client.post(url, {k: v for k, v in data.items() if v is not None})


def errors_of(response: Any) -> str:
    form = response.context["adminform"].form
    return " ".join(str(error) for error in form.errors.values())


def test_a_therapist_records_a_phq9_item_by_item(client: Any, make_staff: Any) -> None:
    """The form asks each item in its own words, 0-3; the server scores it."""
    therapist = make_staff(roles.THERAPIST)
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    client.force_login(therapist)

    page = client.get(add_url("phq9", enrollment))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Over the last 2 weeks, how often have you been bothered" in html
    assert "Little interest or pleasure in doing things" in html
    assert "Nearly every day" in html
    assert 'type="radio" name="item_9"' in html

    response = record(client, enrollment, "phq9", [2, 2, 1, 2, 1, 1, 1, 1, 0])

    assert response.status_code == 302, errors_of(response)
    assessment = Assessment.objects.get()
    assert assessment.answers == [2, 2, 1, 2, 1, 1, 1, 1, 0]
    assert (assessment.total_score, assessment.severity) == (11, "moderate")
    assert not assessment.safety_flag
    assert assessment.administered_by == therapist
    assert assessment.history.get().history_user == therapist


def test_a_gad7_has_seven_questions_and_no_follow_up(
    client: Any, make_staff: Any
) -> None:
    psychiatrist = make_staff(roles.PSYCHIATRIST)
    enrollment = EnrollmentFactory(psychiatrist=psychiatrist)
    client.force_login(psychiatrist)
    page = client.get(add_url("gad7", enrollment))
    fields = page.context["adminform"].form.fields
    assert [name for name in fields if name.startswith("item_")] == [
        f"item_{n}" for n in range(1, 8)
    ]
    assert "safety_followup_note" not in fields

    response = record(client, enrollment, "gad7", [3, 3, 3, 2, 2, 1, 1])

    assert response.status_code == 302, errors_of(response)
    assert Assessment.objects.get().severity == "severe"  # 15


def test_the_add_page_asks_which_questionnaire_first(
    client: Any, make_staff: Any
) -> None:
    therapist = make_staff(roles.THERAPIST)
    client.force_login(therapist)
    page = client.get(f"{ADD}?enrollment=7")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Record a PHQ-9" in html and "Record a GAD-7" in html
    assert "instrument=phq9&amp;enrollment=7" in html
    listing = client.get(LIST).content.decode()
    assert f"{ADD}?instrument=gad7" in listing


@pytest.mark.parametrize(
    ("answers", "overrides", "message"),
    [
        ([1] * 8, {}, "Choose one answer"),  # item 9 missing: 8 answers
        ([1] * 8 + [4], {}, "Choose one answer"),
        ([-1] + [1] * 8, {}, "Choose one answer"),
        (["x"] + [1] * 8, {}, "Choose one answer"),
        ([1.5] + [1] * 8, {}, "Choose one answer"),
        (
            [1] * 9,
            {
                "administered_on": (
                    timezone.localdate() + datetime.timedelta(days=1)
                ).isoformat()
            },
            "cannot be in the future",
        ),
        ([1] * 9, {"administered_on": "2026-02-30"}, "Enter a valid date"),
        (
            [1] * 8 + [0],
            {"safety_followup_note": "Discussed safety."},
            "there is nothing to follow up",
        ),
    ],
    ids=[
        "8-answers",
        "value-4",
        "value-minus-1",
        "not-a-number",
        "not-whole",
        "future-date",
        "no-such-date",
        "follow-up-without-item-9",
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_saved(
    client: Any,
    make_staff: Any,
    answers: list[Any],
    overrides: dict[str, Any],
    message: str,
) -> None:
    therapist = make_staff(roles.THERAPIST)
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    client.force_login(therapist)

    response = record(client, enrollment, "phq9", answers, **overrides)

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "errornote" in page
    assert not Assessment.objects.exists()


def test_the_server_ignores_a_posted_total(client: Any, make_staff: Any) -> None:
    therapist = make_staff(roles.THERAPIST)
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    client.force_login(therapist)
    response = record(
        client,
        enrollment,
        "phq9",
        [0] * 9,
        total_score="27",
        severity="severe",
        safety_flag="on",
    )
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert (assessment.total_score, assessment.severity) == (0, "minimal")
    assert not assessment.safety_flag


def banner(response: Any) -> bool:
    return (
        'class="crisis-banner safety-alert" role="alert"' in response.content.decode()
    )


def test_positive_item_9_banner_until_a_clinician_records_the_follow_up(
    client: Any, make_staff: Any
) -> None:
    """Item 9 above 0 (total 1): the client's pages show the banner, the therapist's
    queue counts it, until the follow-up is recorded; then it is signed."""
    therapist = make_staff(roles.THERAPIST)
    co_therapist = make_staff(roles.THERAPIST)
    enrollment = EnrollmentFactory(primary_therapist=therapist)
    enrollment.co_therapists.add(co_therapist)
    client.force_login(therapist)

    response = record(client, enrollment, "phq9", [0] * 8 + [1])

    assessment = Assessment.objects.get()
    assert assessment.safety_flag and assessment.total_score == 1
    change = reverse("admin:programs_assessment_change", args=[assessment.pk])
    assert response.status_code == 302 and response["Location"] == change
    pages = [
        change,
        reverse("admin:programs_enrollment_change", args=[enrollment.pk]),
        reverse("admin:intake_client_change", args=[enrollment.client.pk]),
    ]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        assert banner(page), url
        assert change in page.content.decode()
    index = client.get(reverse("admin:index")).content.decode()
    assert re.search(r"PHQ-9 item 9: follow-up needed</a> <strong>1</strong>", index)
    flagged = client.get(f"{LIST}?item9=needs_followup")
    assert [row.pk for row in flagged.context["cl"].result_list] == [assessment.pk]

    # The co-therapist follows up.
    client.force_login(co_therapist)
    saved = client.post(
        change,
        form_data(
            client.get(change),
            safety_followup_note="Seen today: passive thoughts, no plan or intent. "
            "Safety plan reviewed with the client.",
        ),
    )

    assert saved.status_code == 302, errors_of(saved)
    assessment.refresh_from_db()
    assert assessment.safety_followup_by == co_therapist
    assert assessment.safety_followup_at is not None
    assert assessment.answers == [0] * 8 + [1]
    for url in pages:
        assert not banner(client.get(url)), url
    client.force_login(therapist)
    index = client.get(reverse("admin:index")).content.decode()
    assert re.search(r"PHQ-9 item 9: follow-up needed</a> <strong>0</strong>", index)
    # Signed: the note is now read-only.
    form = client.get(change).context["adminform"].form
    assert "safety_followup_note" not in form.fields


def test_banner_and_queue_count_only_the_users_caseload(
    client: Any, make_staff: Any
) -> None:
    therapist = make_staff(roles.THERAPIST)
    AssessmentFactory(total=3, item9=1)  # someone else's client
    mine = AssessmentFactory(
        enrollment=EnrollmentFactory(primary_therapist=therapist), total=3, item9=2
    )
    client.force_login(therapist)
    index = client.get(reverse("admin:index")).content.decode()
    assert re.search(r"PHQ-9 item 9: follow-up needed</a> <strong>1</strong>", index)
    manager = make_staff(roles.PROGRAM_MANAGER)
    client.force_login(manager)
    index = client.get(reverse("admin:index")).content.decode()
    assert re.search(r"PHQ-9 item 9: follow-up needed</a> <strong>2</strong>", index)
    # A coordinator sees the client and the enrollment, not the scores.
    client.force_login(make_staff(roles.INTAKE_COORDINATOR))
    for url in (
        reverse("admin:intake_client_change", args=[mine.enrollment.client.pk]),
        reverse("admin:programs_enrollment_change", args=[mine.enrollment.pk]),
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert not banner(page)
        assert "Outcome measures" not in page.content.decode()


def test_editing_the_answers_rescores_and_keeps_history(
    client: Any, make_staff: Any
) -> None:
    therapist = make_staff(roles.THERAPIST)
    assessment = AssessmentFactory(
        enrollment=EnrollmentFactory(primary_therapist=therapist), total=9
    )
    client.force_login(therapist)
    change = reverse("admin:programs_assessment_change", args=[assessment.pk])
    page = client.get(change)
    assert page.context["adminform"].form.initial["item_1"] == 3
    response = client.post(change, form_data(page, item_1="0", item_9="1"))
    assert response.status_code == 302, errors_of(response)
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.severity) == (7, "mild")
    assert assessment.needs_safety_followup
    assert assessment.history.count() == 2


def test_the_enrollment_page_shows_outcomes_and_a_chart(
    client: Any, make_staff: Any
) -> None:
    therapist = make_staff(roles.THERAPIST)
    start = timezone.localdate() - datetime.timedelta(days=21)
    enrollment = EnrollmentFactory(primary_therapist=therapist, admitted_on=start)
    for week, (phq9, gad7) in enumerate([(18, 12), (14, 10), (11, 9), (8, 7)]):
        day = start + datetime.timedelta(weeks=week)
        AssessmentFactory(enrollment=enrollment, administered_on=day, total=phq9)
        AssessmentFactory(
            enrollment=enrollment, instrument="gad7", administered_on=day, total=gad7
        )
    client.force_login(therapist)

    page = client.get(reverse("admin:programs_enrollment_change", args=[enrollment.pk]))

    html = page.content.decode()
    assert "Outcome measures" in html
    assert "<td>18 (moderately severe)</td><td>8 (mild)</td><td>-10</td>" in html
    assert "<td>yes</td><td>no</td><td>yes</td><td>yes / no</td><td>yes</td>" in html
    assert "<td>GAD-7</td><td>12 (moderate)</td><td>7 (mild)</td><td>-5</td>" in html
    assert "<td>n/a</td>" in html  # GAD-7 remission
    assert '<svg class="chart"' in html and html.count("<polyline") == 2
    assert "The scores as a table" in html
    assert f"{ADD}?instrument=phq9&amp;enrollment={enrollment.pk}" in html
    # Nothing the CSP would block: no inline style or script in the panel.
    panel = html[html.index('<svg class="chart"') : html.index("</figure>")]
    assert "style=" not in panel and "<script" not in panel


def test_a_single_score_needs_a_second(client: Any, make_staff: Any) -> None:
    therapist = make_staff(roles.THERAPIST)
    assessment = AssessmentFactory(
        enrollment=EnrollmentFactory(primary_therapist=therapist), total=13
    )
    client.force_login(therapist)
    url = reverse("admin:programs_enrollment_change", args=[assessment.enrollment_id])
    html = client.get(url).content.decode()
    assert "<td>PHQ-9</td><td>13 (moderate)</td><td>needs 2+ scores</td>" in html
    assert "<td>GAD-7</td><td>none yet</td>" in html


def queries_for(client: Any, url: str) -> int:
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["enrollment", "client"])
def test_the_client_pages_run_as_many_queries_for_2_as_20_assessments(
    client: Any, make_staff: Any, page: str
) -> None:
    therapist = make_staff(roles.THERAPIST)
    start = timezone.localdate() - datetime.timedelta(days=140)
    enrollment = EnrollmentFactory(primary_therapist=therapist, admitted_on=start)

    def add(weeks: range) -> None:
        for week in weeks:
            day = start + datetime.timedelta(weeks=week)
            for code in ("phq9", "gad7"):
                AssessmentFactory(
                    enrollment=enrollment,
                    instrument=code,
                    administered_on=day,
                    answers=answers_for(code, week % 15, item9=int(code == "phq9")),
                )

    url = (
        reverse("admin:programs_enrollment_change", args=[enrollment.pk])
        if page == "enrollment"
        else reverse("admin:intake_client_change", args=[enrollment.client_id])
    )
    client.force_login(therapist)
    add(range(1, 2))
    queries_for(client, url)
    with_2 = queries_for(client, url)
    add(range(2, 11))
    assert Assessment.objects.count() == 20
    assert queries_for(client, url) == with_2


# --- The caseload rule on every route (IDOR) -------------------------------------


@pytest.fixture
def team(make_staff: Any) -> dict[str, Any]:
    """An enrollment with its primary therapist, a co-therapist and a psychiatrist,
    one positive PHQ-9 with two versions in its history, and people outside it."""
    primary = make_staff(roles.THERAPIST)
    co_therapist = make_staff(roles.THERAPIST)
    psychiatrist = make_staff(roles.PSYCHIATRIST)
    enrollment = EnrollmentFactory(primary_therapist=primary, psychiatrist=psychiatrist)
    enrollment.co_therapists.add(co_therapist)
    assessment = AssessmentFactory(enrollment=enrollment, total=10, item9=1)
    assessment.administered_on -= datetime.timedelta(days=1)
    assessment.save()
    return {
        "assessment": assessment,
        "primary": primary,
        "co_therapist": co_therapist,
        "psychiatrist": psychiatrist,
        "outsider": make_staff(roles.THERAPIST),
        "other_psychiatrist": make_staff(roles.PSYCHIATRIST),
        "manager": make_staff(roles.PROGRAM_MANAGER),
        "coordinator": make_staff(roles.INTAKE_COORDINATOR),
    }


def routes(assessment: Assessment) -> dict[str, str]:
    version = assessment.history.earliest("history_date").history_id
    return {
        "change": reverse("admin:programs_assessment_change", args=[assessment.pk]),
        "history": reverse("admin:programs_assessment_history", args=[assessment.pk]),
        "version": reverse(
            "admin:programs_assessment_simple_history",
            args=[assessment.pk, version],
        ),
        "delete": reverse("admin:programs_assessment_delete", args=[assessment.pk]),
    }


def autocomplete(client: Any, term: str) -> list[str]:
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "programs",
            "model_name": "assessment",
            "field_name": "enrollment",
            "term": term,
        },
    )
    if response.status_code != 200:
        return []
    return [result["id"] for result in response.json()["results"]]


def refused(response: Any) -> bool:
    """403, 404, or the admin's "does not exist" redirect to the index: never the
    record."""
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and response["Location"] == reverse(
        "admin:index"
    )


@pytest.mark.parametrize("who", ["outsider", "other_psychiatrist"])
def test_a_clinician_outside_the_enrollment_reaches_no_route(
    client: Any, team: dict[str, Any], who: str
) -> None:
    assessment = team["assessment"]
    client.force_login(team[who])

    listing = client.get(LIST)
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == []
    for name, url in routes(assessment).items():
        assert refused(client.get(url)), name
        assert refused(client.post(url, {"post": "yes"})), name
    assert autocomplete(client, assessment.enrollment.client.last_name) == []
    # Nor can an id typed into the add form reach the enrollment.
    response = record(client, assessment.enrollment, "gad7", [1] * 7)
    assert response.status_code == 200
    assert "Select a valid choice" in errors_of(response)
    assessment.refresh_from_db()
    assert Assessment.objects.count() == 1
    assert assessment.safety_followup_note == ""


@pytest.mark.parametrize("who", ["primary", "co_therapist", "psychiatrist"])
def test_the_enrollments_clinicians_reach_every_route(
    client: Any, team: dict[str, Any], who: str
) -> None:
    assessment = team["assessment"]
    client.force_login(team[who])
    listing = client.get(LIST)
    assert [row.pk for row in listing.context["cl"].result_list] == [assessment.pk]
    pages = routes(assessment)
    for name in ("change", "history", "version"):
        assert client.get(pages[name]).status_code == 200, name
    assert client.get(pages["delete"]).status_code == 403  # nobody but a superuser
    assert autocomplete(client, assessment.enrollment.client.last_name) == [
        str(assessment.enrollment_id)
    ]


def test_a_manager_reads_every_assessment_and_changes_none(
    client: Any, team: dict[str, Any]
) -> None:
    assessment = team["assessment"]
    client.force_login(team["manager"])
    pages = routes(assessment)
    for name in ("change", "history", "version"):
        assert client.get(pages[name]).status_code == 200, name
    shown = client.get(pages["change"]).content.decode()
    assert "Thoughts that you would be better off dead" in shown
    assert "<strong>1 Several days</strong>" in shown
    assert 'type="radio"' not in shown
    note = {"safety_followup_note": "Manager note", **items(assessment.answers)}
    assert client.post(pages["change"], note).status_code == 403
    assert client.post(pages["version"], note).status_code == 403
    assert client.get(add_url("phq9")).status_code == 403
    assessment.refresh_from_db()
    assert assessment.needs_safety_followup


def test_a_coordinator_sees_no_assessment(client: Any, team: dict[str, Any]) -> None:
    client.force_login(team["coordinator"])
    assert client.get(LIST).status_code == 403
    for name, url in routes(team["assessment"]).items():
        assert client.get(url).status_code == 403, name
    assert client.get(add_url("phq9")).status_code == 403
