"""Manager reports inside the admin: aggregates with the "<5" rule, charts, CSV export.

How to add a report:

1. Create a module in this package, e.g. ``iopclinic/reports/intake_funnel.py``.
   Every module here except the framework's (``FRAMEWORK_MODULES``) is imported when
   the package is, so nothing else needs editing.
2. In it, subclass ``Report``, set ``slug`` (the URL part), ``title``, a one-line
   ``description`` and an ``order`` (place on the index), implement
   ``build(filters) -> ReportResult``, and decorate the class with ``@register``::

       @register
       class IntakeFunnel(Report):
           slug = "intake-funnel"
           title = "Intake funnel"
           description = "Inquiries, conversion and wait, by referral source."
           order = 30

           def build(self, filters: Filters) -> ReportResult:
               ...  # at most 3 queries for the data
               return ReportResult([Section("Conversion", figures=[...])])

3. ``filters`` has ``start`` and ``end`` (both days included), ``program_id``,
   ``track_id``, ``tracks`` (the tracks in scope, with capacity), ``track_ids``,
   ``is_narrowed`` and ``months()``. Filter on ``track_id__in=filters.track_ids``
   only when ``filters.is_narrowed``, so the default view needs no track list.
4. Give every number as a ``Cell`` that says how many people it describes:
   ``Cell.count(n)``, ``Cell.rate(num, den, people=..., follows=[...])``,
   ``Cell.number(mean, people=n)``; ``follows`` names cells it would give away. Put
   them in ``Figure(label, cell, definition)``, ``Table(..., total_row=True)`` and
   ``Chart(title, "line" | "bar", months, [ChartSeries(label, cells)], unit="%")``
   inside ``Section``s. State each DOMAIN.md section 6 definition as written.
   Do not format numbers or hide small ones yourself: ``privacy.suppress`` hides
   them (page and CSV alike) and the shared template ``admin/reports/report.html``
   draws the filters, figures, charts (with their numbers as a table) and tables.
5. The site then serves ``admin/reports/<slug>/`` (URL name ``admin:reports_<slug
   with _>``) and ``admin/reports/<slug>/export.csv``, lists it under "Reports" on
   the index for users with ``iopclinic.view_reports`` (program managers,
   superusers), and records every export as an access event.
6. Tests: a hand-built fixture for every figure, and the report's data in at most 3
   queries (helpers in ``tests/iopclinic/reports_helpers.py``).

``REPORTS`` is the registry, ordered by ``order`` then title; each entry is a
``Report`` subclass with ``slug``, ``title``, ``url_name()``, ``export_url_name()``,
``default_querystring()`` and ``narrow_querystring(program_id, month=None)`` (one
program over one month). The benchmark runner reads it.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import (
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

__all__ = [
    "REPORTS",
    "Cell",
    "Chart",
    "ChartSeries",
    "Figure",
    "Filters",
    "Report",
    "ReportResult",
    "Row",
    "Section",
    "Table",
    "register",
]

REPORTS: list[type[Report]] = []

# Modules of this package that are the framework, not reports.
FRAMEWORK_MODULES = {"base", "privacy", "views", "rollups"}


def register(report: type[Report]) -> type[Report]:
    """Add a report to REPORTS (class decorator)."""
    if any(other.slug == report.slug for other in REPORTS):
        raise ValueError(f"Two reports have the slug {report.slug!r}.")
    REPORTS.append(report)
    REPORTS.sort(key=lambda entry: (entry.order, entry.title))
    return report


for _module in pkgutil.iter_modules(__path__):
    if _module.name not in FRAMEWORK_MODULES and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
