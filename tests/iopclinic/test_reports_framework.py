"""The reports framework: the "<5" rule, the filters, the page, the CSV export and its
audit, the permission and the index entry (iopclinic/reports/)."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse

from iopclinic import roles
from iopclinic.models import AccessEvent
from iopclinic.reports import (
    REPORTS,
    Cell,
    Chart,
    ChartSeries,
    Figure,
    Filters,
    Report,
    ReportResult,
    Row,
    Section,
    Table,
)
from iopclinic.reports.base import filter_form, last_complete_months
from iopclinic.reports.privacy import suppress, suppress_table
from iopclinic.reports.views import export_view, report_view
from tests.factories import EnrollmentFactory, ProgramFactory, TrackFactory

from .reports_helpers import MAX_DATA_QUERIES, data_queries, filters

pytestmark = pytest.mark.django_db

OTHER_ROLES = [
    roles.INTAKE_COORDINATOR,
    roles.THERAPIST,
    roles.PSYCHIATRIST,
    roles.PRIVACY_OFFICER,
]


def counts(*values: int) -> list[Cell]:
    return [Cell.count(value) for value in values]


def shown(table: Table) -> list[list[str]]:
    return [[cell.display for cell in row.cells] for row in table.rows]


# --- The "<5" rule -----------------------------------------------------------------


def test_counts_of_one_to_four_people_are_hidden_zero_and_five_are_shown() -> None:
    result = ReportResult(
        [Section("s", figures=[Figure(str(n), Cell.count(n), "") for n in range(7)])]
    )
    suppress(result)
    assert [f.cell.display for f in result.sections[0].figures] == [
        "0", "<5", "<5", "<5", "<5", "5", "6",
    ]  # fmt: skip


def test_counts_of_things_are_never_hidden() -> None:
    """A count of sessions is about no one: 2 sessions are shown."""
    cell = Cell.count(2, about_people=False)
    suppress(ReportResult([Section("s", figures=[Figure("x", cell, "")])]))
    assert cell.display == "2"


def test_rates_and_means_over_fewer_than_five_people_are_hidden() -> None:
    small = Cell.rate(3, 4)
    enough = Cell.rate(3, 5)
    mean = Cell.number(12.5, people=4)
    empty = Cell.rate(0, 0)
    suppress(
        ReportResult(
            [
                Section(
                    "s",
                    figures=[
                        Figure(n, c, "")
                        for n, c in zip(
                            "abcd", [small, enough, mean, empty], strict=True
                        )
                    ],
                )
            ]
        )
    )
    assert [small.display, enough.display, mean.display, empty.display] == [
        "<5",
        "60.0%",
        "<5",
        "–",
    ]


def test_a_hidden_cell_in_a_row_with_a_total_hides_the_next_smallest() -> None:
    """3 + 6 + 20 = 29: with only the 3 hidden, 29 - 6 - 20 gives it back."""
    table = Table(
        "t", "", ["a", "b", "c", "Total"], [Row("r", counts(3, 6, 20, 29))],
        total_column=True,
    )  # fmt: skip
    suppress_table(table)
    assert shown(table) == [["<5", "<5", "20", "29"]]


def test_complementary_suppression_prefers_a_non_zero_cell() -> None:
    table = Table(
        "t", "", ["a", "b", "c", "Total"], [Row("r", counts(2, 0, 9, 11))],
        total_column=True,
    )  # fmt: skip
    suppress_table(table)
    assert shown(table) == [["<5", "0", "<5", "11"]]


def test_complementary_suppression_runs_down_columns_and_across_rows() -> None:
    """A cell hidden to protect a row can leave its column with one hidden cell: the
    rule repeats until every line with a shown total has none or two or more."""
    table = Table(
        "t",
        "",
        ["a", "b", "Total"],
        [
            Row("x", counts(2, 10, 12)),
            Row("y", counts(8, 9, 17)),
            Row("z", counts(20, 30, 50)),
            Row("Total", counts(30, 49, 79)),
        ],
        total_row=True,
        total_column=True,
    )
    suppress_table(table)
    assert shown(table) == [
        ["<5", "<5", "12"],
        ["<5", "<5", "17"],
        ["20", "30", "50"],
        ["30", "49", "79"],
    ]


def test_two_hidden_cells_in_a_line_need_nothing_more() -> None:
    table = Table(
        "t", "", ["a", "b", "c", "Total"], [Row("r", counts(1, 2, 20, 23))],
        total_column=True,
    )  # fmt: skip
    suppress_table(table)
    assert shown(table) == [["<5", "<5", "20", "23"]]


def test_without_totals_there_is_no_complementary_suppression() -> None:
    table = Table("t", "", ["a", "b"], [Row("r", counts(3, 6))])
    suppress_table(table)
    assert shown(table) == [["<5", "6"]]


def test_a_share_is_hidden_with_its_count() -> None:
    """The share beside a count hidden only to protect another is hidden too."""
    completed, stepped_down, against = counts(20, 6, 2)
    total = Cell.count(28)
    shares = [
        Cell.rate(c.value or 0, 28, follows=[c])
        for c in (completed, stepped_down, against)
    ]  # noqa: E501
    table = Table(
        "mix",
        "Type",
        ["Discharges", "Share"],
        [
            Row("Completed", [completed, shares[0]]),
            Row("Stepped down", [stepped_down, shares[1]]),
            Row("Against advice", [against, shares[2]]),
            Row("Total", [total, Cell.rate(28, 28)]),
        ],
        total_row=True,
    )
    suppress(ReportResult([Section("s", tables=[table])]))
    assert shown(table) == [
        ["20", "71.4%"],
        ["<5", "<5"],
        ["<5", "<5"],
        ["28", "100.0%"],
    ]


# --- Filters ----------------------------------------------------------------------


def test_the_default_period_is_the_last_twelve_complete_months() -> None:
    assert last_complete_months(today=datetime.date(2026, 11, 27)) == (
        datetime.date(2025, 11, 1),
        datetime.date(2026, 10, 31),
    )
    assert last_complete_months(today=datetime.date(2026, 1, 1)) == (
        datetime.date(2025, 1, 1),
        datetime.date(2025, 12, 31),
    )


def test_filters_describe_themselves_without_client_data() -> None:
    scope = Filters(datetime.date(2025, 11, 1), datetime.date(2026, 10, 31), 3, 5)
    assert scope.describe() == "2025-11-01..2026-10-31 program=3 track=5"
    assert scope.querystring() == "start=2025-11-01&end=2026-10-31&program=3&track=5"
    assert scope.months()[0] == datetime.date(2025, 11, 1)
    assert len(scope.months()) == 12
    assert scope.days == 365


def test_a_track_filter_sets_its_program_and_scope() -> None:
    day, evening = TrackFactory(), TrackFactory()
    form = filter_form(QueryDict(f"start=2026-01-01&end=2026-01-31&track={day.pk}"))
    scope = form.filters()
    assert (scope.program_id, scope.track_id) == (day.program_id, day.pk)
    assert scope.track_ids == [day.pk]
    assert evening.pk not in scope.track_ids
    assert scope.tracks[0].capacity == day.capacity


def test_invalid_filters_fall_back_to_the_default_and_say_so() -> None:
    form = filter_form(QueryDict("start=2026-02-01&end=2026-01-01"))
    assert not form.is_valid()
    assert (form.filters().start, form.filters().end) == last_complete_months()


def test_a_track_of_another_program_is_an_error() -> None:
    day = TrackFactory()
    other = TrackFactory(program=ProgramFactory(name="Adult PHP", level_of_care="php"))
    form = filter_form(
        QueryDict(f"start=2026-01-01&end=2026-01-31&program={day.program_id}"
                  f"&track={other.pk}")
    )  # fmt: skip
    assert "track" in form.errors


def test_narrow_querystring_is_one_program_over_one_month() -> None:
    assert Report.narrow_querystring(7, datetime.date(2026, 2, 14)) == (
        "start=2026-02-01&end=2026-02-28&program=7"
    )


# --- Page, export, audit, permission ----------------------------------------------


class SmallReport(Report):
    """A report with one small number, one large, a table and a chart."""

    slug = "small"
    title = "Small"

    def build(self, filters: Filters) -> ReportResult:
        months = filters.months()[:2]
        return ReportResult(
            [
                Section(
                    "Counts",
                    figures=[
                        Figure("Few", Cell.count(3), "Three people."),
                        Figure("Many", Cell.count(40), "Forty people."),
                    ],
                    charts=[
                        Chart(
                            "Per month",
                            "bar",
                            months,
                            [ChartSeries("Admissions", counts(2, 12))],
                        )
                    ],
                    tables=[
                        Table(
                            "By track",
                            "Track",
                            ["Clients"],
                            [
                                Row("Day", counts(3)),
                                Row("Evening", counts(9)),
                                Row("Total", counts(12)),
                            ],
                            total_row=True,
                        )  # fmt: skip
                    ],
                )
            ]
        )


def request_for(user: Any, query: str = "") -> Any:
    request = RequestFactory().get(f"/admin/reports/small/?{query}")
    request.user = user
    return request


@pytest.fixture
def manager(make_staff: Any) -> Any:
    return make_staff(roles.PROGRAM_MANAGER)


QUERY = "start=2025-11-01&end=2026-10-31"


def test_the_page_shows_definitions_suppressed_cells_and_the_chart(
    manager: Any, monkeypatch: Any
) -> None:
    # SmallReport is not registered, so it has no URL of its own.
    monkeypatch.setattr(
        SmallReport, "export_url_name", classmethod(lambda cls: "admin:reports_index")
    )
    response = report_view(
        request_for(manager, QUERY), site=admin.site, report=SmallReport
    )
    page = response.render().content.decode()
    assert "Three people." in page
    assert "&lt;5" in page
    assert "<svg" in page
    assert "Per month: the numbers" in page
    assert ">40<" in page
    assert "start=2025-11-01&amp;end=2026-10-31" in page  # the export keeps the filters


def test_the_csv_has_the_same_numbers_and_the_same_suppression(manager: Any) -> None:
    response = export_view(
        request_for(manager, QUERY), site=admin.site, report=SmallReport
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["Few", "<5", "Three people."] in rows
    assert ["Many", "40", "Forty people."] in rows
    assert ["Day", "<5"] in rows
    assert ["Evening", "<5"] in rows  # complementary: the total would give Day back
    assert ["2025-11", "<5"] in rows
    assert ["2025-12", "12"] in rows
    assert "3" not in {cell for row in rows for cell in row}


def test_every_export_is_an_access_event_naming_report_and_filters(
    manager: Any,
) -> None:
    track = TrackFactory()
    query = f"{QUERY}&program={track.program_id}"
    export_view(request_for(manager, query), site=admin.site, report=SmallReport)
    event = AccessEvent.objects.get(action=AccessEvent.Action.EXPORT)
    assert (event.user, event.action, event.outcome) == (
        manager,
        AccessEvent.Action.EXPORT,
        AccessEvent.Outcome.COMPLETED,
    )
    assert (event.app_label, event.model_name, event.object_id) == (
        "reports",
        "small",
        "",
    )
    assert event.page == f"small 2025-11-01..2026-10-31 program={track.program_id}"


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_may_not_see_or_export_reports(make_staff: Any, role: str) -> None:
    user = make_staff(role)
    with pytest.raises(PermissionDenied):
        report_view(request_for(user), site=admin.site, report=SmallReport)
    with pytest.raises(PermissionDenied):
        export_view(request_for(user), site=admin.site, report=SmallReport)
    refused = AccessEvent.objects.get(action=AccessEvent.Action.EXPORT)
    assert (refused.action, refused.outcome) == ("export", "refused")


def test_superusers_and_program_managers_hold_the_reports_permission(
    manager: Any, superuser: Any
) -> None:
    assert manager.has_perm("iopclinic.view_reports")
    assert superuser.has_perm("iopclinic.view_reports")


@pytest.mark.parametrize(
    ("role", "status"),
    [(roles.PROGRAM_MANAGER, 200), (None, 200)] + [(role, 403) for role in OTHER_ROLES],
)
def test_the_reports_index_answers_only_managers_and_superusers(
    client: Any, make_staff: Any, role: str | None, status: int
) -> None:
    client.force_login(make_staff(role, superuser=role is None))
    assert client.get(reverse("admin:reports_index")).status_code == status


def test_the_reports_index_needs_a_login(client: Any) -> None:
    response = client.get(reverse("admin:reports_index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_the_admin_index_lists_reports_under_reports(
    client: Any, manager: Any, make_staff: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(
        SmallReport, "url", classmethod(lambda cls: "/admin/reports/small/")
    )
    monkeypatch.setattr("iopclinic.reports.views.REPORTS", [*REPORTS, SmallReport])
    client.force_login(manager)
    app_list = client.get(reverse("admin:index")).context["app_list"]
    section = next(app for app in app_list if app["name"] == "Reports")
    assert "Small" in [model["name"] for model in section["models"]]
    client.force_login(make_staff(roles.THERAPIST))
    app_list = client.get(reverse("admin:index")).context["app_list"]
    assert "Reports" not in [app["name"] for app in app_list]


# --- Every registered report ------------------------------------------------------


@pytest.mark.parametrize("report", REPORTS, ids=lambda report: report.slug)
@pytest.mark.parametrize(
    ("role", "status"),
    [(roles.PROGRAM_MANAGER, 200), (None, 200)] + [(role, 403) for role in OTHER_ROLES],
)
def test_every_report_and_export_answers_only_managers_and_superusers(
    client: Any, make_staff: Any, report: Any, role: str | None, status: int
) -> None:
    client.force_login(make_staff(role, superuser=role is None))
    assert client.get(reverse(report.url_name())).status_code == status
    assert client.get(reverse(report.export_url_name())).status_code == status
    exports = AccessEvent.objects.filter(action="export", model_name=report.slug)
    assert [e.outcome for e in exports] == ["completed" if status == 200 else "refused"]


@pytest.mark.parametrize("report", REPORTS, ids=lambda report: report.slug)
def test_every_report_fetches_its_data_in_at_most_three_queries(report: Any) -> None:
    track = TrackFactory()
    for n in range(3):
        EnrollmentFactory(track=track, admitted_on=datetime.date(2026, 1, 1 + n))
    for scope in (
        filters(*last_complete_months()),
        filters(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31), track=track),
        filters(
            datetime.date(2026, 1, 1),
            datetime.date(2026, 1, 31),
            program=track.program,
        ),
    ):
        assert data_queries(report, scope) <= MAX_DATA_QUERIES


def test_the_registry_lists_what_the_benchmark_needs() -> None:
    """slug, title, URL names and the two querystrings, for every report."""
    assert [report.slug for report in REPORTS][:2] == ["enrollment", "attendance"]
    for report in REPORTS:
        assert report.title
        assert reverse(report.url_name()) == f"/admin/reports/{report.slug}/"
        assert reverse(report.export_url_name()).endswith("/export.csv")
        assert report.default_querystring() == ""
        assert report.narrow_querystring(3, datetime.date(2026, 1, 9)) == (
            "start=2026-01-01&end=2026-01-31&program=3"
        )
