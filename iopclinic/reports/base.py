"""The pieces a manager report is built from: its filters, and the figures, tables
and charts it shows. Every number is a ``Cell`` that knows how many people it
describes, so ``privacy.suppress`` can hide it ("<5", DOMAIN.md section 7) in the page
and in the CSV alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, cast
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

# The longest period a report is asked for: keeps every report's work bounded.
MAX_PERIOD_DAYS = 3 * 366

CellKind = Literal["count", "rate", "number"]


@dataclass(eq=False)
class Cell:
    """One number on a report and the people it describes.

    ``people`` is how many people the number is about: a count's own value, a rate's
    denominator population, the clients behind an average; ``None`` for a number about
    no one (a count of sessions). ``follows`` are cells it would give away if shown
    while they are hidden (a share beside its count, a rate made of them).
    ``additive``: the cell adds up with its row or column into a total (counts, and
    sums such as an average daily census), so suppression protects it from
    subtraction.
    """

    value: float | None
    people: int | None = None
    kind: CellKind = "count"
    follows: tuple[Cell, ...] = ()
    suppressed: bool = False
    additive: bool = True

    @classmethod
    def count(cls, n: int, *, about_people: bool = True) -> Cell:
        """A number of people (or, with ``about_people=False``, of things)."""
        return cls(n, people=n if about_people else None)

    @classmethod
    def rate(
        cls,
        numerator: float,
        denominator: float,
        *,
        people: int | None = None,
        follows: Iterable[Cell] = (),
    ) -> Cell:
        """numerator / denominator; no value when the denominator is 0. ``people`` is
        the denominator's population (the denominator itself if not given)."""
        return cls(
            numerator / denominator if denominator else None,
            people=int(denominator) if people is None else people,
            kind="rate",
            follows=tuple(follows),
            additive=False,
        )

    @classmethod
    def number(
        cls,
        value: float | None,
        *,
        people: int | None,
        follows: Iterable[Cell] = (),
        additive: bool = False,
    ) -> Cell:
        """A mean, median or other number shown with one decimal; ``additive`` when
        it sums into a total (an average daily census), not for a mean or median."""
        return cls(
            value,
            people=people,
            kind="number",
            follows=tuple(follows),
            additive=additive,
        )

    @property
    def display(self) -> str:
        if self.suppressed:
            return "<5"
        if self.value is None:
            return "–"
        if self.kind == "rate":
            return f"{self.value * 100:.1f}%"
        if self.kind == "number":
            return f"{self.value:.1f}"
        return str(int(self.value))

    @property
    def chart_value(self) -> float | None:
        """What a chart may draw: nothing for a hidden or empty cell."""
        if self.suppressed or self.value is None:
            return None
        return self.value * 100 if self.kind == "rate" else float(self.value)

    def __str__(self) -> str:
        return self.display


@dataclass
class Row:
    label: str
    cells: list[Cell]


@dataclass
class Table:
    """Rows of cells under column headers.

    ``total_column``: the last column is each row's total of the count columns before
    it; ``total_row``: the last row is each column's total. Totals are what lets a
    hidden cell be subtracted back, so suppression hides a second cell in such a line.
    """

    title: str
    row_header: str
    columns: list[str]
    rows: list[Row]
    total_row: bool = False
    total_column: bool = False
    definition: str = ""

    def cells(self) -> Iterable[Cell]:
        for row in self.rows:
            yield from row.cells


@dataclass(frozen=True)
class Figure:
    """A headline number with the definition it was computed by (DOMAIN.md s. 6)."""

    label: str
    cell: Cell
    definition: str


@dataclass(frozen=True)
class ChartSeries:
    label: str
    cells: Sequence[Cell]


@dataclass(frozen=True)
class Chart:
    """A monthly series drawn as a line or bar chart; the page shows the same cells
    as a table under it."""

    title: str
    kind: Literal["line", "bar"]
    months: Sequence[datetime.date]
    series: Sequence[ChartSeries]
    unit: str = ""
    definition: str = ""
    # The title of a table in the same section that holds exactly these numbers; the
    # page then points to it instead of repeating them.
    numbers_in: str = ""

    def cells(self) -> Iterable[Cell]:
        for line in self.series:
            yield from line.cells

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The chart's numbers by month, for the table under it."""
        return [
            {"month": month, "cells": [line.cells[n] for line in self.series]}
            for n, month in enumerate(self.months)
        ]


@dataclass
class Section:
    """A heading and what is shown under it, in this order."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    note: str = ""

    def cells(self) -> Iterable[Cell]:
        for figure in self.figures:
            yield figure.cell
        for table in self.tables:
            yield from table.cells()
        for chart in self.charts:
            yield from chart.cells()


@dataclass
class ReportResult:
    sections: list[Section]
    # A report that reads rollups says so, and when they were last refreshed (None:
    # never, or nothing in the period).
    from_rollup: bool = False
    as_of: datetime.datetime | None = None


# --- Filters -------------------------------------------------------------------------


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The first day of each calendar month that overlaps ``start``..``end``."""
    months, month = [], first_of_month(start)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def last_complete_months(
    count: int = 12, today: datetime.date | None = None
) -> tuple[datetime.date, datetime.date]:
    """(first day, last day) of the ``count`` whole months before this one."""
    this_month = first_of_month(today or timezone.localdate())
    return add_months(this_month, -count), this_month - datetime.timedelta(days=1)


@dataclass(frozen=True)
class TrackChoice:
    """A track as the filters know it: enough for the selects and for capacity."""

    id: int
    name: str
    program_id: int
    program_name: str
    capacity: int


@dataclass(frozen=True)
class Filters:
    """What a report is asked for: a period (both days included), and optionally one
    program or one track. ``tracks`` are the tracks in scope; ``today`` is the day
    "now" figures (census today) are for."""

    start: datetime.date
    end: datetime.date
    program_id: int | None = None
    track_id: int | None = None
    tracks: tuple[TrackChoice, ...] = ()
    today: datetime.date = field(default_factory=timezone.localdate)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def track_ids(self) -> list[int]:
        return [track.id for track in self.tracks]

    @property
    def is_narrowed(self) -> bool:
        """True when a program or track is chosen (queries then filter by track)."""
        return self.program_id is not None or self.track_id is not None

    def months(self) -> list[datetime.date]:
        """The first day of each month the period touches."""
        return months_between(self.start, self.end)

    def params(self) -> dict[str, str]:
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.program_id is not None:
            params["program"] = str(self.program_id)
        if self.track_id is not None:
            params["track"] = str(self.track_id)
        return params

    def querystring(self) -> str:
        return urlencode(self.params())

    def describe(self) -> str:
        """Short and free of client data, for the audit trail:
        ``2025-11-01..2026-10-31 program=3 track=5``."""
        text = f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"
        if self.program_id is not None:
            text += f" program={self.program_id}"
        if self.track_id is not None:
            text += f" track={self.track_id}"
        return text


def load_tracks() -> list[TrackChoice]:
    """Every track with its program, in one query (the filters' selects and
    capacities)."""
    from programs.models import Track

    return [
        TrackChoice(*row)
        for row in Track.objects.order_by("program__name", "name", "id").values_list(
            "id", "name", "program_id", "program__name", "capacity"
        )
    ]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class FilterForm(forms.Form):
    """The period and scope of a report; the default is the last 12 complete months
    of every program."""

    start = forms.DateField(label="From", widget=DateInput())
    end = forms.DateField(label="To", widget=DateInput())
    program = forms.TypedChoiceField(
        label="Program", coerce=int, required=False, empty_value=None
    )
    track = forms.TypedChoiceField(
        label="Track", coerce=int, required=False, empty_value=None
    )

    def __init__(self, data: Any = None, *, tracks: Sequence[TrackChoice]) -> None:
        start, end = last_complete_months()
        super().__init__(data, initial={"start": start, "end": end})
        self.tracks = list(tracks)
        programs = dict.fromkeys(
            (track.program_id, track.program_name) for track in self.tracks
        )
        cast(forms.ChoiceField, self.fields["program"]).choices = [
            ("", "All programs"),
            *programs,
        ]
        cast(forms.ChoiceField, self.fields["track"]).choices = [
            ("", "All tracks"),
            *(
                (track.id, f"{track.program_name}: {track.name}")
                for track in self.tracks
            ),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError("The period must end on or after its start.")
            if (end - start).days >= MAX_PERIOD_DAYS:
                raise ValidationError("Choose a period of at most three years.")
        program, track = data.get("program"), data.get("track")
        if (
            program is not None
            and track is not None
            and not any(t.id == track and t.program_id == program for t in self.tracks)
        ):
            self.add_error("track", "That track is not in the chosen program.")
        return data

    def filters(self) -> Filters:
        """The filters asked for, or the default ones if the form is not valid."""
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
        else:
            data = {**self.initial, "program": None, "track": None}
        program, track = data["program"], data["track"]
        if track is not None:
            program = next(t.program_id for t in self.tracks if t.id == track)
        tracks = tuple(
            t
            for t in self.tracks
            if (program is None or t.program_id == program)
            and (track is None or t.id == track)
        )
        return Filters(data["start"], data["end"], program, track, tracks)


FILTER_KEYS = ("start", "end", "program", "track")


def filter_form(query: Any) -> FilterForm:
    """The filter form for a request's GET parameters (unbound when none are given)."""
    bound = any(key in query for key in FILTER_KEYS)
    data = query.copy() if bound else None
    if data is not None:
        # An empty date means the default one, not an error.
        defaults = last_complete_months()
        for key, default in zip(("start", "end"), defaults, strict=True):
            if not data.get(key):
                data[key] = default.isoformat()
    return FilterForm(data, tracks=load_tracks())


# --- Reports and the registry -----------------------------------------------------


class Report:
    """A manager report. Subclass it, set the class attributes, implement ``build``
    and decorate the class with ``register`` (see the package docstring)."""

    slug: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    # Place on the index and in REPORTS: lower first.
    order: ClassVar[int] = 100

    @classmethod
    def url_name(cls) -> str:
        return f"admin:reports_{cls.slug.replace('-', '_')}"

    @classmethod
    def export_url_name(cls) -> str:
        return f"{cls.url_name()}_export"

    @classmethod
    def url(cls) -> str:
        return reverse(cls.url_name())

    @classmethod
    def default_querystring(cls) -> str:
        """The default view: no parameters (the last 12 complete months, all
        programs)."""
        return ""

    @classmethod
    def narrow_querystring(
        cls, program_id: int, month: datetime.date | None = None
    ) -> str:
        """One program over one month (the last complete month unless given)."""
        first = first_of_month(month) if month else last_complete_months(1)[0]
        last = add_months(first, 1) - datetime.timedelta(days=1)
        return Filters(first, last, program_id).querystring()

    def build(self, filters: Filters) -> ReportResult:
        """The report's sections for these filters, in at most 3 queries."""
        raise NotImplementedError
