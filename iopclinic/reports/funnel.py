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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
from programs.models import Enrollment, SeatOffer

NOT_RECORDED = ""
NOT_RECORDED_LABEL = "Not recorded"


def months_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The first day of each calendar month that overlaps ``start``..``end``."""
    months = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


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
    for row in rows:
        n, source = row["n"], row["heard_about_us"]
        index = column[row["month"]]
        by_channel.setdefault(row["channel"], [0] * len(months))[index] += n
        by_source.setdefault(source, [0] * len(months))[index] += n
        inquiries[source] += n
        if row["admission_on"] is not None:
            admitted[source] += n
            waits[source][(row["admission_on"] - row["admitted_from"]).days] += n
    all_waits: Counter[int] = Counter()
    for counts in waits.values():
        all_waits.update(counts)
    return InquiryFunnel(
        months=tuple(months),
        by_channel={code: tuple(counts) for code, counts in by_channel.items()},
        by_source={code: tuple(counts) for code, counts in by_source.items()},
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
    level_of_care: str | None = None,
) -> tuple[WaitlistPoint, ...]:
    """Waitlist size and median days waiting at each month's end (one query).

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
    if level_of_care:
        open_or_removed = open_or_removed.filter(level_of_care=level_of_care)
        admitted = admitted.filter(waitlist_entry__level_of_care=level_of_care)
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
    tracks: Iterable[Any] | QuerySet[Any] | None = None,
) -> tuple[OfferMonth, ...]:
    """Offers made in each month of the period and their outcome (one query)."""
    since, until = day_bounds(start, end)
    offers = SeatOffer.objects.filter(offered_at__gte=since, offered_at__lt=until)
    if tracks is not None:
        offers = offers.filter(track__in=tracks)
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
