"""The report pages, their CSV export, the reports' index and their URLs on the admin
site. Every view needs the ``iopclinic.view_reports`` permission (program managers
and superusers); every export is an access event naming the report and its filters.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import slugify

from programs.charts import Bars, Series, bar_chart, line_chart

from ..models import AccessEvent, AccessOutcome
from . import REPORTS
from .base import Chart, Filters, Report, ReportResult, filter_form
from .privacy import THRESHOLD, suppress

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite

PERMISSION = "iopclinic.view_reports"

# Colour and dash pattern per series, so lines differ by more than colour.
PALETTE = [
    ("#2f5d62", ""),
    ("#b5651d", "6 3"),
    ("#6a4c93", "2 2"),
    ("#4a7c3a", "8 3 2 3"),
    ("#8a1c1c", "1 3"),
]
PRIVACY_NOTE = (
    f"Aggregates only. A number that would describe fewer than {THRESHOLD} people is "
    'shown as "<5", and so is a second number wherever a total would let the first be '
    "worked out (DOMAIN.md section 7). Rates, averages and medians over fewer than "
    f'{THRESHOLD} people are shown as "<5" too; a count of 0 describes nobody and is '
    'shown. "–" means there is nothing to compute (no one in the denominator).'
)


def can_view_reports(request: HttpRequest) -> bool:
    return request.user.has_perm(PERMISSION)


def _require_permission(request: HttpRequest) -> None:
    if not can_view_reports(request):
        raise PermissionDenied("The reports are for program managers.")


def run(report: type[Report], filters: Filters) -> ReportResult:
    """Build a report and apply the "<5" rule to it."""
    return suppress(report().build(filters))


# --- Charts ----------------------------------------------------------------------


def _nice_scale(top: float) -> tuple[float, float]:
    """(y_max, y_step): a round maximum at or above ``top`` in about 4 steps."""
    if top <= 0:
        return 1, 1
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if step < 1:
        step = 1
    return step * math.ceil(top / step), step


def render_chart(chart: Chart, chart_id: str) -> SafeString:
    """The chart as inline SVG (programs/charts.py): CSP-safe, no script."""
    values = [value for value in (c.chart_value for c in chart.cells()) if value]
    if chart.unit == "%":
        y_max, y_step = 100.0, 25.0
    else:
        y_max, y_step = _nice_scale(max(values, default=0))
    description = "; ".join(
        f"{line.label}: "
        + ", ".join(
            f"{month:%b %Y} {cell.display}"
            for month, cell in zip(chart.months, line.cells, strict=True)
        )
        for line in chart.series
    )
    if chart.kind == "bar":
        return bar_chart(
            [f"{month:%b}" for month in chart.months],
            [
                Bars(line.label, [c.chart_value for c in line.cells], *PALETTE[n % 5])
                for n, line in enumerate(chart.series)
            ],
            chart_id=chart_id,
            title=chart.title,
            description=description,
            y_max=y_max,
            y_step=y_step,
        )
    return line_chart(
        [
            Series(
                line.label,
                [
                    (month, value)
                    for month, cell in zip(chart.months, line.cells, strict=True)
                    if (value := cell.chart_value) is not None
                ],
                *PALETTE[n % 5],
            )
            for n, line in enumerate(chart.series)
        ],
        chart_id=chart_id,
        title=chart.title,
        description=description,
        y_max=y_max,
        y_step=y_step,
    )


# --- Views -----------------------------------------------------------------------


def reports_index(request: HttpRequest, *, site: AdminSite) -> TemplateResponse:
    _require_permission(request)
    return TemplateResponse(
        request,
        "admin/reports/index.html",
        {
            **site.each_context(request),
            "title": "Reports",
            "reports": [(report, report.url()) for report in REPORTS],
        },
    )


def report_view(
    request: HttpRequest, *, site: AdminSite, report: type[Report]
) -> TemplateResponse:
    _require_permission(request)
    form = filter_form(request.GET)
    filters = form.filters()
    result = run(report, filters)
    sections = [
        {
            "section": section,
            "charts": [
                (chart, render_chart(chart, f"{report.slug}-{n}-{m}"))
                for m, chart in enumerate(section.charts)
            ],
        }
        for n, section in enumerate(result.sections)
    ]
    return TemplateResponse(
        request,
        "admin/reports/report.html",
        {
            **site.each_context(request),
            "title": report.title,
            "report": report,
            "form": form,
            "filters": filters,
            "result": result,
            "sections": sections,
            "privacy_note": PRIVACY_NOTE,
            "export_url": f"{reverse(report.export_url_name())}?"
            f"{filters.querystring()}",
            "reports_url": reverse("admin:reports_index"),
        },
    )


def _safe(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(
    report: type[Report], filters: Filters, result: ReportResult
) -> Iterator[list[str]]:
    """The report as CSV rows: the same numbers and the same "<5" as the page."""
    yield [report.title]
    yield ["Period", f"{filters.start:%Y-%m-%d}", f"{filters.end:%Y-%m-%d}"]
    scope = [t.program_name for t in filters.tracks[:1]] if filters.program_id else []
    if filters.track_id is not None:
        scope = [f"{filters.tracks[0].program_name}: {filters.tracks[0].name}"]
    yield ["Scope", *(scope or ["All programs"])]
    if result.from_rollup:
        yield [
            "Data as of",
            f"{timezone.localtime(result.as_of):%Y-%m-%d %H:%M}"
            if result.as_of
            else "no rollup for this period yet",
        ]
    yield ["Privacy", PRIVACY_NOTE]
    for section in result.sections:
        yield []
        yield [section.title]
        if section.note:
            yield [section.note]
        if section.figures:
            yield ["Figure", "Value", "Definition"]
            for figure in section.figures:
                yield [figure.label, figure.cell.display, figure.definition]
        for chart in section.charts:
            if chart.numbers_in:
                continue  # the same numbers are one of the tables
            yield []
            yield [chart.title, *([chart.definition] if chart.definition else [])]
            yield ["Month", *(line.label for line in chart.series)]
            for n, month in enumerate(chart.months):
                yield [
                    f"{month:%Y-%m}",
                    *(line.cells[n].display for line in chart.series),
                ]
        for table in section.tables:
            yield []
            yield [table.title, *([table.definition] if table.definition else [])]
            yield [table.row_header, *table.columns]
            for row in table.rows:
                yield [row.label, *(cell.display for cell in row.cells)]


def export_view(
    request: HttpRequest, *, site: AdminSite, report: type[Report]
) -> HttpResponse:
    filters = filter_form(request.GET).filters()

    def record(outcome: AccessOutcome) -> None:
        AccessEvent.record(
            user=request.user,
            action=AccessEvent.Action.EXPORT,
            app_label="reports",
            model_name=report.slug,
            object_id="",
            page=f"{report.slug} {filters.describe()}",
            outcome=outcome,
        )

    if not can_view_reports(request):
        record(AccessEvent.Outcome.REFUSED)
        raise PermissionDenied("The reports are for program managers.")
    result = run(report, filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = slugify(f"{report.slug} {filters.describe().replace('..', ' to ')}")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    for row in csv_rows(report, filters, result):
        writer.writerow([_safe(value) for value in row])
    # Written last: an export that failed to build is not on record as done.
    record(AccessEvent.Outcome.COMPLETED)
    return response


# --- The admin site ----------------------------------------------------------------


def report_urls(site: AdminSite) -> list[URLPattern]:
    """URLs for the index and for each registered report and its export."""

    def bind(view: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
        def bound(request: HttpRequest) -> Any:
            return view(request, site=site, **kwargs)

        return site.admin_view(bound)

    urls = [path("reports/", bind(reports_index), name="reports_index")]
    for report in REPORTS:
        name = report.url_name().removeprefix("admin:")
        urls += [
            path(
                f"reports/{report.slug}/", bind(report_view, report=report), name=name
            ),
            path(
                f"reports/{report.slug}/export.csv",
                bind(export_view, report=report),
                name=f"{name}_export",
            ),
        ]
    return urls


def reports_app(request: HttpRequest) -> list[dict[str, Any]]:
    """The "Reports" entry of the admin index, for users who may see them."""
    if not REPORTS or not can_view_reports(request):
        return []
    return [
        {
            "name": "Reports",
            "app_label": "reports",
            "app_url": reverse("admin:reports_index"),
            "has_module_perms": True,
            "models": [
                {
                    "name": report.title,
                    "object_name": report.slug,
                    "admin_url": report.url(),
                    "add_url": None,
                    "view_only": True,
                    "perms": {"view": True},
                }
                for report in REPORTS
            ],
        }
    ]
