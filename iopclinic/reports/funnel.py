"""The intake funnel (DOMAIN.md sections 2 and 6): inquiries per month by channel and
by how they heard of us, conversion to admission, the wait from inquiry to admission,
the waitlist over time and the seat offers.

The query functions return plain numbers and are pure reads: each is one SQL query,
whatever the number of inquiries, entries or offers (the rows come back grouped).

Definitions (stated on the page under each figure):

- **Cohort**: the inquiries received (clinic's time zone) in the period; an inquiry
  closed as a duplicate is the same request logged twice and is left out.
- **Led to an admission**: the admission workflow marked the inquiry admitted and its
  client has an enrollment admitted on or after the day the inquiry was received and
  no later than today (a scheduled admission that has not started is not one yet).
  The admission is the first such enrollment; an inquiry admitted months later still
  counts in the month it was received.
- **Conversion** = inquiries of the cohort that led to an admission / inquiries of the
  cohort, overall and by how they heard of us (the referral source).
- **Wait** = admission date - the inquiry's received date, in days; the median over
  the cohort's inquiries that led to an admission.
- **On the waitlist on a day**: an entry (waiting or offered a seat) added on or before
  that day and not yet admitted (before its admission date) or removed (before its
  removal date). **Days waiting** = that day - the date added. Counted on the last day
  of each month of the period (or the period's last day), never after today.
- **Offers**: seat offers made in the period, by the month made, with what became of
  them: accepted, declined, expired, or still open.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from intake.models import Inquiry, WaitlistEntry
from intake.models.waitlist import OPEN_STATUSES, WaitlistStatus
from programs.models import Enrollment, Program, SeatOffer

from . import register
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
    months_between,
)

NOT_RECORDED = ""
NOT_RECORDED_LABEL = "Not recorded"


def month_end(month: datetime.date) -> datetime.date:
    """The last day of the month of ``month``."""
    return (month.replace(day=1) + datetime.timedelta(days=32)).replace(
        day=1
    ) - datetime.timedelta(days=1)


def day_bounds(
    start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """Aware datetimes from the start of ``start`` to the start of the day after
    ``end`` in the clinic's time zone: a range an index on a datetime can serve."""
    zone = timezone.get_current_timezone()
    since = datetime.datetime.combine(start, datetime.time(), tzinfo=zone)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time(), tzinfo=zone
    )
    return since, until


def median(counts: Mapping[int, int]) -> float | None:
    """The median of values given as value -> how many times; None when empty."""
    total = sum(counts.values())
    if total == 0:
        return None
    # The middle position, or the two middle positions when the count is even.
    lower, upper = (total - 1) // 2, total // 2
    low: int | None = None
    seen = 0
    for value in sorted(value for value, n in counts.items() if n):
        seen += counts[value]
        if low is None and seen > lower:
            low = value
        if seen > upper:
            assert low is not None
            return (low + value) / 2
    raise AssertionError("unreachable: the counts add up to total")


def rate(part: int, whole: int) -> float | None:
    """``part`` / ``whole``, or None when there is nothing to divide by."""
    return part / whole if whole else None


# --- Inquiries, conversion and wait -------------------------------------------------


@dataclass(frozen=True)
class SourceConversion:
    """Conversion of one referral source's inquiries in the cohort."""

    source: str
    label: str
    inquiries: int
    admitted: int
    median_wait_days: float | None

    @property
    def conversion(self) -> float | None:
        return rate(self.admitted, self.inquiries)


@dataclass(frozen=True)
class InquiryFunnel:
    """The cohort of inquiries received in the period, and where they led."""

    months: tuple[datetime.date, ...]
    # Channel / source code -> inquiries received in each month of ``months``.
    by_channel: dict[str, tuple[int, ...]]
    by_source: dict[str, tuple[int, ...]]
    # Inquiries received in each month that led to an admission.
    admitted_by_month: tuple[int, ...]
    inquiries: int
    admitted: int
    median_wait_days: float | None
    by_source_conversion: tuple[SourceConversion, ...]

    @property
    def conversion(self) -> float | None:
        return rate(self.admitted, self.inquiries)


CHANNELS: dict[str, str] = dict(Inquiry.Channel.choices)
SOURCES: dict[str, str] = {
    **dict(Inquiry.Source.choices),
    NOT_RECORDED: NOT_RECORDED_LABEL,
}


def cohort(start: datetime.date, end: datetime.date) -> QuerySet[Inquiry]:
    """The inquiries received in the period, duplicates left out."""
    since, until = day_bounds(start, end)
    return Inquiry.objects.filter(
        received_at__gte=since, received_at__lt=until
    ).exclude(
        status=Inquiry.Status.CLOSED, closed_reason=Inquiry.ClosedReason.DUPLICATE
    )


def inquiry_funnel(
    start: datetime.date,
    end: datetime.date,
    *,
    today: datetime.date | None = None,
) -> InquiryFunnel:
    """Inquiries per month by channel and source, conversion and wait (one query)."""
    today = today or timezone.localdate()
    admission = (
        Enrollment.objects.filter(
            client=OuterRef("client"),
            admitted_on__gte=OuterRef("received_on"),
            admitted_on__lte=today,
        )
        .order_by("admitted_on")
        .values("admitted_on")[:1]
    )
    rows = (
        cohort(start, end)
        .annotate(
            month=TruncMonth("received_at", output_field=DateField()),
            received_on=TruncDate("received_at"),
        )
        .annotate(
            admission_on=Case(
                When(status=Inquiry.Status.ADMITTED, then=Subquery(admission)),
                output_field=DateField(),
            ),
            # Only an admitted inquiry keeps its day apart: the others group by
            # month, channel and source alone.
            admitted_from=Case(
                When(status=Inquiry.Status.ADMITTED, then=F("received_on")),
                output_field=DateField(),
            ),
        )
        .order_by()
        .values("month", "channel", "heard_about_us", "admitted_from", "admission_on")
        .annotate(n=Count("id"))
    )
    months = months_between(start, end)
    column = {month: index for index, month in enumerate(months)}
    by_channel = {code: [0] * len(months) for code in CHANNELS}
    by_source = {code: [0] * len(months) for code in SOURCES}
    inquiries: Counter[str] = Counter()
    admitted: Counter[str] = Counter()
    waits: dict[str, Counter[int]] = defaultdict(Counter)
    admitted_by_month = [0] * len(months)
    for row in rows:
        n, source = row["n"], row["heard_about_us"]
        index = column[row["month"]]
        by_channel.setdefault(row["channel"], [0] * len(months))[index] += n
        by_source.setdefault(source, [0] * len(months))[index] += n
        inquiries[source] += n
        if row["admission_on"] is not None:
            admitted[source] += n
            admitted_by_month[index] += n
            waits[source][(row["admission_on"] - row["admitted_from"]).days] += n
    all_waits: Counter[int] = Counter()
    for counts in waits.values():
        all_waits.update(counts)
    return InquiryFunnel(
        months=tuple(months),
        by_channel={code: tuple(counts) for code, counts in by_channel.items()},
        by_source={code: tuple(counts) for code, counts in by_source.items()},
        admitted_by_month=tuple(admitted_by_month),
        inquiries=sum(inquiries.values()),
        admitted=sum(admitted.values()),
        median_wait_days=median(all_waits),
        by_source_conversion=tuple(
            SourceConversion(
                source=code,
                label=SOURCES.get(code, code),
                inquiries=inquiries[code],
                admitted=admitted[code],
                median_wait_days=median(waits[code]),
            )
            for code in SOURCES
        ),
    )


# --- The waitlist over time ---------------------------------------------------------


@dataclass(frozen=True)
class WaitlistPoint:
    """The waitlist as it stood at the end of one day."""

    on: datetime.date
    size: int
    median_days_waiting: float | None


def waitlist_days(
    start: datetime.date, end: datetime.date, today: datetime.date
) -> list[datetime.date]:
    """The days the waitlist is counted on: each month's last day in the period (the
    period's last day for a month it cuts short), up to today."""
    days = [min(month_end(month), end) for month in months_between(start, end)]
    return [day for day in days if day <= today]


def waitlist_over_time(
    start: datetime.date,
    end: datetime.date,
    *,
    today: datetime.date | None = None,
    track_ids: Sequence[int] | None = None,
) -> tuple[WaitlistPoint, ...]:
    """Waitlist size and median days waiting at each month's end (one query).

    With ``track_ids``, the entries waiting for the level of care of those tracks'
    programs: a waitlist entry waits for a level of care, not for a track.

    Entries still open or removed are read from the waitlist itself; an admitted
    entry's last day comes from its enrollment, reached from the enrollment side so
    the admission-date index picks the few admitted after the first counted day.
    """
    today = today or timezone.localdate()
    days = waitlist_days(start, end, today)
    if not days:
        return ()
    first, last = days[0], days[-1]
    open_or_removed = WaitlistEntry.objects.filter(added_on__lte=last).filter(
        Q(status__in=OPEN_STATUSES)
        | Q(status=WaitlistStatus.REMOVED, removed_on__gt=first)
    )
    admitted = Enrollment.objects.filter(
        waitlist_entry__isnull=False,
        admitted_on__gt=first,
        waitlist_entry__added_on__lte=last,
    )
    if track_ids is not None:
        levels = Program.objects.filter(tracks__in=track_ids).values("level_of_care")
        open_or_removed = open_or_removed.filter(level_of_care__in=levels)
        admitted = admitted.filter(waitlist_entry__level_of_care__in=levels)
    counted = {
        f"on_{index}": Count(
            "id",
            filter=Q(added_on__lte=day)
            & (Q(removed_on__isnull=True) | Q(removed_on__gt=day)),
        )
        for index, day in enumerate(days)
    }
    counted_admitted = {
        f"on_{index}": Count(
            "id",
            filter=Q(waitlist_entry__added_on__lte=day) & Q(admitted_on__gt=day),
        )
        for index, day in enumerate(days)
    }
    rows = (
        open_or_removed.order_by()
        .values_list("added_on")
        .annotate(**counted)
        .union(
            admitted.order_by()
            .values_list("waitlist_entry__added_on")
            .annotate(**counted_admitted),
            all=True,
        )
        .order_by()
    )
    waiting: list[Counter[int]] = [Counter() for _ in days]
    for added_on, *counts in rows:
        for index, n in enumerate(counts):
            if n:
                waiting[index][(days[index] - added_on).days] += n
    return tuple(
        WaitlistPoint(
            on=day,
            size=sum(waiting[index].values()),
            median_days_waiting=median(waiting[index]),
        )
        for index, day in enumerate(days)
    )


# --- Seat offers --------------------------------------------------------------------


@dataclass(frozen=True)
class OfferMonth:
    """Seat offers made in one month, by what became of them."""

    month: datetime.date
    made: int
    accepted: int
    declined: int
    expired: int
    still_open: int


def seat_offers(
    start: datetime.date,
    end: datetime.date,
    *,
    track_ids: Sequence[int] | None = None,
) -> tuple[OfferMonth, ...]:
    """Offers made in each month of the period and their outcome (one query)."""
    since, until = day_bounds(start, end)
    offers = SeatOffer.objects.filter(offered_at__gte=since, offered_at__lt=until)
    if track_ids is not None:
        offers = offers.filter(track__in=track_ids)
    rows = (
        offers.annotate(month=TruncMonth("offered_at", output_field=DateField()))
        .order_by()
        .values_list("month", "outcome")
        .annotate(n=Count("id"))
    )
    counts: dict[datetime.date, Counter[str]] = defaultdict(Counter)
    for month, outcome, n in rows:
        counts[month][outcome] += n
    return tuple(
        OfferMonth(
            month=month,
            made=sum(counts[month].values()),
            accepted=counts[month][SeatOffer.Outcome.ACCEPTED],
            declined=counts[month][SeatOffer.Outcome.DECLINED],
            expired=counts[month][SeatOffer.Outcome.EXPIRED],
            still_open=counts[month][""],
        )
        for month in months_between(start, end)
    )


# --- The report ---------------------------------------------------------------------

COHORT = (
    "Cohort: the inquiries received in the period (by the day received, in the "
    "clinic's time zone), each counted in the month it was received even when the "
    "admission came months later. An inquiry closed as a duplicate is the same request "
    "logged twice and is not counted."
)
LED_TO_ADMISSION = (
    "Led to an admission: the inquiry was marked admitted by the admission and its "
    "client has an enrollment admitted on or after the day it was received and no "
    "later than today (a scheduled admission counts once it starts)."
)
CONVERSION = (
    "Conversion = inquiries of the cohort that led to an admission / inquiries of the "
    "cohort (DOMAIN.md section 6)."
)
WAIT = (
    "Wait = admission date - the inquiry's received date (the first contact), in "
    "days; the median over the cohort's inquiries that led to an admission "
    "(DOMAIN.md section 6)."
)
RECENT = "The most recent months' inquiries have had less time to lead to an admission."
OPTIONAL_SOURCE = (
    "How they heard of us is optional (no referral is needed), so “Not recorded” is "
    "a line of its own."
)
WHOLE_CLINIC = (
    "An inquiry belongs to no program until its admission, so the inquiry figures are "
    "for the whole clinic whatever program or track is chosen."
)
WAITLIST = (
    "On the waitlist on a day: entries waiting or offered a seat, added on or before "
    "that day and not yet admitted (before the admission date) or removed (before "
    "the removal date). Days waiting = that day - the date added. Counted on the last "
    "day of each month of the period (the period's last day for a month it cuts "
    "short), never after today."
)
WAITLIST_NARROWED = (
    " A waitlist entry waits for a level of care, not a track: with a program or track "
    "chosen, the entries for its level of care are counted."
)
OFFERS = (
    "Seat offers made in the period, by the month made (clinic's time zone), with what "
    "became of each: accepted, declined, expired (not answered within the offer's "
    "days), or still open. Acceptance = accepted / offers made."
)


def _counts_table(
    title: str,
    row_header: str,
    labels: Mapping[str, str],
    counts: Mapping[str, Sequence[int]],
    months: Sequence[datetime.date],
    month_totals: Sequence[Cell],
    total: Cell,
    definition: str,
) -> tuple[Table, dict[str, Cell]]:
    """Rows of monthly counts with a total column and a total row; the total row's
    cells are the shared ``month_totals`` and ``total``. Returns the table and each
    row's total cell."""
    rows, row_totals = [], {}
    for code, label in labels.items():
        values = counts.get(code, [0] * len(months))
        row_totals[code] = Cell.count(sum(values))
        rows.append(Row(label, [*map(Cell.count, values), row_totals[code]]))
    rows.append(Row("Total", [*month_totals, total]))
    return (
        Table(
            title,
            row_header,
            [f"{month:%b %Y}" for month in months] + ["Total"],
            rows,
            total_row=True,
            total_column=True,
            definition=definition,
        ),
        row_totals,
    )


@register
class IntakeFunnel(Report):
    slug = "intake-funnel"
    title = "Intake funnel"
    description = (
        "Inquiries by channel and by how they heard of us, conversion to admission "
        "and the wait for it, the waitlist over time, and the seat offers."
    )
    order = 30

    def build(self, filters: Filters) -> ReportResult:
        """Three queries: the inquiry cohort, the waitlist, the offers."""
        track_ids = filters.track_ids if filters.is_narrowed else None
        today = filters.today
        funnel = inquiry_funnel(filters.start, filters.end, today=today)
        waitlist = waitlist_over_time(
            filters.start, filters.end, today=today, track_ids=track_ids
        )
        offers = seat_offers(filters.start, filters.end, track_ids=track_ids)
        return ReportResult(
            [
                *inquiry_sections(funnel),
                waitlist_section(waitlist, narrowed=filters.is_narrowed),
                offers_section(offers),
            ]
        )


def _conversion(admitted: Cell, inquiries: Cell) -> Cell:
    """admitted / inquiries, hidden with either count."""
    return Cell.rate(
        admitted.value or 0, inquiries.value or 0, follows=[admitted, inquiries]
    )


def inquiry_sections(funnel: InquiryFunnel) -> list[Section]:
    """Inquiries by month, channel and source; conversion and wait by source. A
    number shown in several places is one cell, so it is hidden everywhere or
    nowhere."""
    months = funnel.months
    inquiries = Cell.count(funnel.inquiries)
    admitted = Cell.count(funnel.admitted)
    per_month = [
        Cell.count(sum(counts[n] for counts in funnel.by_channel.values()))
        for n in range(len(months))
    ]
    admitted_per_month = [Cell.count(n) for n in funnel.admitted_by_month]
    by_month = Table(
        "Inquiries by month received",
        "Month received",
        ["Inquiries", "Led to an admission", "Conversion"],
        [
            Row(f"{month:%b %Y}", [cell, done, _conversion(done, cell)])
            for month, cell, done in zip(
                months, per_month, admitted_per_month, strict=True
            )
        ]
        + [Row("Total", [inquiries, admitted, _conversion(admitted, inquiries)])],
        total_row=True,
        definition=f"{COHORT} {LED_TO_ADMISSION} {CONVERSION} {RECENT}",
    )
    by_channel, _ = _counts_table(
        "Inquiries per month by channel",
        "Channel",
        CHANNELS,
        funnel.by_channel,
        months,
        per_month,
        inquiries,
        COHORT,
    )
    by_source, source_totals = _counts_table(
        "Inquiries per month by how they heard of us",
        "How they heard of us",
        SOURCES,
        funnel.by_source,
        months,
        per_month,
        inquiries,
        f"{COHORT} {OPTIONAL_SOURCE}",
    )
    rows = []
    for line in funnel.by_source_conversion:
        source_admitted = Cell.count(line.admitted)
        total = source_totals[line.source]
        rows.append(
            Row(
                line.label,
                [
                    total,
                    source_admitted,
                    _conversion(source_admitted, total),
                    Cell.number(line.median_wait_days, people=line.admitted),
                ],
            )
        )
    median_wait = Cell.number(funnel.median_wait_days, people=funnel.admitted)
    conversion = _conversion(admitted, inquiries)
    rows.append(Row("Total", [inquiries, admitted, conversion, median_wait]))
    by_referral = Table(
        "Conversion and wait by how they heard of us",
        "How they heard of us",
        ["Inquiries", "Led to an admission", "Conversion", "Median wait (days)"],
        rows,
        total_row=True,
        definition=f"{CONVERSION} {WAIT} {OPTIONAL_SOURCE}",
    )
    chart = Chart(
        "Inquiries and admissions by month received",
        "line",
        months,
        [
            ChartSeries("Inquiries", per_month),
            ChartSeries("Led to an admission", admitted_per_month),
        ],
        definition=f"{COHORT} {LED_TO_ADMISSION}",
    )
    return [
        Section(
            "Inquiries",
            figures=[
                Figure("Inquiries received", inquiries, COHORT),
                Figure("Led to an admission", admitted, LED_TO_ADMISSION),
            ],
            charts=[chart],
            tables=[by_month, by_channel, by_source],
            note=WHOLE_CLINIC,
        ),
        Section(
            "Conversion to admission",
            figures=[
                Figure("Conversion", conversion, f"{CONVERSION} {RECENT}"),
                Figure(
                    "Median wait from inquiry to admission (days)", median_wait, WAIT
                ),
            ],
            tables=[by_referral],
            note=WHOLE_CLINIC,
        ),
    ]


def waitlist_section(points: Sequence[WaitlistPoint], *, narrowed: bool) -> Section:
    """Waitlist size and median days waiting at each month's end."""
    months = [point.on.replace(day=1) for point in points]
    sizes = [Cell.count(point.size) for point in points]
    waits = [
        Cell.number(point.median_days_waiting, people=point.size) for point in points
    ]
    definition = WAITLIST + (WAITLIST_NARROWED if narrowed else "")
    return Section(
        "Waitlist",
        charts=[
            Chart(
                "People on the waitlist at the end of each month",
                "line",
                months,
                [ChartSeries("On the waitlist", sizes)],
                definition=definition,
            ),
            Chart(
                "Median days waiting at the end of each month",
                "line",
                months,
                [ChartSeries("Median days waiting", waits)],
                definition=definition,
            ),
        ],
    )


def offers_section(months: Sequence[OfferMonth]) -> Section:
    """Offers made by month, by outcome, and the share accepted."""
    columns = ["Accepted", "Declined", "Expired", "Still open", "Made"]
    values = [
        (month.accepted, month.declined, month.expired, month.still_open, month.made)
        for month in months
    ]
    rows = [
        Row(f"{month.month:%b %Y}", [Cell.count(n) for n in line])
        for month, line in zip(months, values, strict=True)
    ]
    totals = [Cell.count(sum(line[n] for line in values)) for n in range(len(columns))]
    rows.append(Row("Total", totals))
    accepted, *_, expired, _, made = totals
    chart = Chart(
        "Seat offers by month made and outcome",
        "bar",
        [month.month for month in months],
        [
            ChartSeries(label, [row.cells[n] for row in rows[:-1]])
            for n, label in enumerate(columns[:3])
        ],
        definition=OFFERS,
    )
    return Section(
        "Seat offers",
        figures=[
            Figure("Offers made", made, OFFERS),
            Figure(
                "Accepted",
                Cell.rate(
                    accepted.value or 0, made.value or 0, follows=[accepted, made]
                ),
                "Accepted / offers made in the period.",
            ),
            Figure(
                "Expired",
                Cell.rate(expired.value or 0, made.value or 0, follows=[expired, made]),
                "Expired / offers made in the period: not answered before the offer "
                "lapsed.",
            ),
        ],
        charts=[chart],
        tables=[
            Table(
                "Seat offers by month made",
                "Month made",
                columns,
                rows,
                total_row=True,
                total_column=True,
                definition=OFFERS,
            )
        ],
    )
