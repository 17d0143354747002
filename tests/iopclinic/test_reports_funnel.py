"""The intake funnel report: every figure against a hand-built clinic whose answers
are worked out in the docstrings (DOMAIN.md sections 2 and 6)."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Inquiry, WaitlistEntry
from iopclinic import roles
from iopclinic.reports import Chart, Figure, Table
from iopclinic.reports.funnel import (
    COHORT,
    IntakeFunnel,
    OfferMonth,
    WaitlistPoint,
    inquiry_funnel,
    median,
    months_between,
    seat_offers,
    waitlist_over_time,
)
from programs.models import Track
from tests.factories import (
    ClientFactory,
    EnrollmentFactory,
    InquiryFactory,
    ProgramFactory,
    SeatOfferFactory,
    TrackFactory,
    WaitlistEntryFactory,
)
from tests.iopclinic.reports_explain import scanned_whole
from tests.iopclinic.reports_helpers import (
    build,
    chart,
    data_queries,
    figure,
    filters,
    table,
)

pytestmark = pytest.mark.django_db

D = datetime.date
START, END = D(2025, 1, 1), D(2025, 3, 31)
TODAY = D(2025, 6, 30)
JAN, FEB, MAR = D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)


def local(day: datetime.date, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


def inquiry(
    received: datetime.date | datetime.datetime,
    *,
    channel: str = "phone",
    source: str = "",
    status: str = "new",
    admitted_on: datetime.date | None = None,
    **fields: Any,
) -> Inquiry:
    """An inquiry received on a day (noon, clinic time); ``admitted_on`` admits its
    client on that day, the way the admission workflow leaves it."""
    at = received if isinstance(received, datetime.datetime) else local(received)
    if admitted_on is not None or status in Inquiry.NEEDS_CLIENT:
        fields.setdefault("client", ClientFactory())
    if status == "closed":
        fields.setdefault("closed_reason", "unreachable")
    made = InquiryFactory(
        received_at=at, channel=channel, heard_about_us=source, status=status, **fields
    )
    if admitted_on is not None:
        EnrollmentFactory(client=made.client, admitted_on=admitted_on)
    return made


@pytest.fixture
def cohort(db: None) -> None:
    """Seven inquiries in the cohort, four of them admitted (waits 10, 90, 20, 0):

    January: A phone/clinician admitted after 10 days; B phone/clinician closed;
    C web form/web admitted 90 days later, in April; D email closed as a duplicate
    (not counted). February: E phone/not recorded, still new; F walk-in/family
    marked admitted for a day after today (not an admission yet); G phone/clinician
    admitted after 20 days, whose client had an earlier episode. March: H phone/web
    admitted the same day. Outside: one in December and one in April, both admitted.
    """
    inquiry(D(2025, 1, 10), source="clinician", status="admitted",
            admitted_on=D(2025, 1, 20))  # fmt: skip
    inquiry(D(2025, 1, 11), source="clinician", status="closed")
    inquiry(D(2025, 1, 15), channel="web_form", source="web", status="admitted",
            admitted_on=D(2025, 4, 15))  # fmt: skip
    inquiry(D(2025, 1, 16), channel="email", status="closed",
            closed_reason="duplicate")  # fmt: skip
    inquiry(D(2025, 2, 3))
    inquiry(D(2025, 2, 4), channel="walk_in", source="family_friend",
            status="admitted", admitted_on=D(2025, 7, 10))  # fmt: skip
    returning = ClientFactory()
    EnrollmentFactory(
        client=returning,
        admitted_on=D(2024, 6, 1),
        status="discharged",
        discharged_on=D(2024, 7, 1),
        discharge_type="completed",
    )
    inquiry(D(2025, 2, 5), source="clinician", status="admitted", client=returning,
            admitted_on=D(2025, 2, 25))  # fmt: skip
    inquiry(D(2025, 3, 1), source="web", status="admitted", admitted_on=D(2025, 3, 1))
    inquiry(D(2024, 12, 20), status="admitted", admitted_on=D(2025, 1, 5))
    inquiry(D(2025, 4, 1), status="admitted", admitted_on=D(2025, 4, 2))


def test_months_between_covers_each_calendar_month() -> None:
    """A period cut mid-month still has that month."""
    assert months_between(D(2024, 11, 15), D(2025, 2, 3)) == [
        D(2024, 11, 1),
        D(2024, 12, 1),
        D(2025, 1, 1),
        D(2025, 2, 1),
    ]


def test_median_of_counted_values() -> None:
    """The middle value; the mean of the two middle ones for an even count."""
    assert median({}) is None
    assert median({5: 1}) == 5
    assert median({0: 1, 10: 1, 20: 1, 90: 1}) == 15
    assert median({3: 2, 7: 1}) == 3
    assert median({1: 1, 2: 0, 9: 1}) == 5


def test_inquiries_per_month_by_channel(cohort: None) -> None:
    """Counted in the month received; the duplicate is left out."""
    funnel = inquiry_funnel(START, END, today=TODAY)
    assert funnel.months == (JAN, FEB, MAR)
    assert funnel.by_channel == {
        "phone": (2, 2, 1),
        "walk_in": (0, 1, 0),
        "web_form": (1, 0, 0),
        "email": (0, 0, 0),
        "other": (0, 0, 0),
    }


def test_inquiries_per_month_by_how_they_heard_of_us(cohort: None) -> None:
    funnel = inquiry_funnel(START, END, today=TODAY)
    assert funnel.by_source["clinician"] == (2, 1, 0)
    assert funnel.by_source["web"] == (1, 0, 1)
    assert funnel.by_source["family_friend"] == (0, 1, 0)
    assert funnel.by_source[""] == (0, 1, 0)
    assert funnel.by_source["school"] == (0, 0, 0)


def test_conversion_and_wait(cohort: None) -> None:
    """4 of 7 led to an admission; the waits 0, 10, 20, 90 have median 15. The one
    admitted in April counts in January, its cohort."""
    funnel = inquiry_funnel(START, END, today=TODAY)
    assert (funnel.inquiries, funnel.admitted) == (7, 4)
    assert funnel.conversion == pytest.approx(4 / 7)
    assert funnel.median_wait_days == 15
    assert funnel.admitted_by_month == (2, 1, 1)


def test_conversion_by_source(cohort: None) -> None:
    """Clinician 2 of 3 (waits 10, 20); web 2 of 2 (waits 90, 0); the others none."""
    by_source = {
        row.source: row
        for row in inquiry_funnel(START, END, today=TODAY).by_source_conversion
    }
    clinician, web = by_source["clinician"], by_source["web"]
    assert (clinician.inquiries, clinician.admitted) == (3, 2)
    assert clinician.median_wait_days == 15
    assert (web.inquiries, web.admitted, web.median_wait_days) == (2, 2, 45)
    assert (by_source[""].inquiries, by_source[""].admitted) == (1, 0)
    assert by_source[""].label == "Not recorded"
    assert by_source["family_friend"].conversion == 0
    assert by_source["school"].conversion is None
    assert by_source["school"].median_wait_days is None


def test_a_scheduled_admission_counts_once_it_starts(cohort: None) -> None:
    """F's admission on 10 July converts it when "today" has reached that day."""
    funnel = inquiry_funnel(START, END, today=D(2025, 7, 10))
    assert funnel.admitted == 5


def test_cohort_days_are_the_clinics(db: None) -> None:
    """Received 31 March 23:30 and 1 January 00:05 clinic time: in the first quarter;
    31 December 23:50 and 1 April 00:10: out, whatever the server's clock says."""
    inquiry(local(D(2025, 1, 1), 0, 5))
    inquiry(local(D(2025, 3, 31), 23, 30))
    inquiry(local(D(2024, 12, 31), 23, 50))
    inquiry(local(D(2025, 4, 1), 0, 10))
    funnel = inquiry_funnel(START, END, today=TODAY)
    assert funnel.by_channel["phone"] == (1, 0, 1)


def test_inquiry_funnel_is_one_query(
    django_assert_num_queries: Any, cohort: None
) -> None:
    with django_assert_num_queries(1):
        inquiry_funnel(START, END, today=TODAY)


@pytest.mark.parametrize("count", [2, 20])
def test_inquiry_funnel_queries_do_not_grow(
    django_assert_num_queries: Any, count: int
) -> None:
    for n in range(count):
        inquiry(D(2025, 1, 1 + n), status="admitted", admitted_on=D(2025, 2, 1 + n))
    with django_assert_num_queries(1):
        assert inquiry_funnel(START, END, today=TODAY).admitted == count


# --- The waitlist -------------------------------------------------------------------


def entry(added: datetime.date, level: str = "iop", **fields: Any) -> WaitlistEntry:
    return WaitlistEntryFactory(added_on=added, level_of_care=level, **fields)


def admitted_entry(added: datetime.date, on: datetime.date) -> WaitlistEntry:
    made = entry(added, status="admitted")
    EnrollmentFactory(client=made.client, waitlist_entry=made, admitted_on=on)
    return made


def removed_entry(added: datetime.date, on: datetime.date) -> WaitlistEntry:
    return entry(added, status="removed", removed_on=on, removed_reason="unreachable")


@pytest.fixture
def waitlist(db: None) -> None:
    """W1 IOP added 10 Jan, waiting. W2 IOP added 1 Dec, removed 15 Feb. W3 IOP
    added 31 Jan, admitted 1 Mar. W4 added and removed 28 Feb (never on the list at
    a month's end). W5 added June 2024, admitted July 2024. W6 IOP added 15 Mar, offered
    a seat. W7 PHP added 5 Jan, waiting. W8 added 2 Jan, admitted 31 Jan.

    31 Jan: W1 21 days, W2 61, W3 0, W7 26 -> 4, median 23.5.
    28 Feb: W1 49, W3 28, W7 54 -> 3, median 49.
    31 Mar: W1 80, W6 16, W7 85 -> 3, median 80.
    """
    entry(D(2025, 1, 10))
    removed_entry(D(2024, 12, 1), D(2025, 2, 15))
    admitted_entry(D(2025, 1, 31), D(2025, 3, 1))
    removed_entry(D(2025, 2, 28), D(2025, 2, 28))
    admitted_entry(D(2024, 6, 1), D(2024, 7, 1))
    entry(D(2025, 3, 15), status="offered")
    entry(D(2025, 1, 5), level="php")
    admitted_entry(D(2025, 1, 2), D(2025, 1, 31))


def test_waitlist_size_and_wait_at_each_months_end(waitlist: None) -> None:
    assert waitlist_over_time(START, END, today=TODAY) == (
        WaitlistPoint(D(2025, 1, 31), 4, 23.5),
        WaitlistPoint(D(2025, 2, 28), 3, 49),
        WaitlistPoint(D(2025, 3, 31), 3, 80),
    )


def test_waitlist_of_the_chosen_tracks_level_of_care(waitlist: None) -> None:
    """An IOP track: without W7 (PHP), 21, 61, 0 -> 21; 49, 28 -> 38.5; 80, 16 -> 48."""
    iop = TrackFactory()
    assert waitlist_over_time(START, END, today=TODAY, track_ids=[iop.pk]) == (
        WaitlistPoint(D(2025, 1, 31), 3, 21),
        WaitlistPoint(D(2025, 2, 28), 2, 38.5),
        WaitlistPoint(D(2025, 3, 31), 2, 48),
    )


def test_waitlist_is_never_counted_after_today(waitlist: None) -> None:
    """Today 10 March: counted on 31 January and 28 February only; a period cut
    short on 15 February counts that day."""
    days = [p.on for p in waitlist_over_time(START, END, today=D(2025, 3, 10))]
    assert days == [D(2025, 1, 31), D(2025, 2, 28)]
    short = waitlist_over_time(START, D(2025, 2, 15), today=TODAY)
    assert [p.on for p in short] == [D(2025, 1, 31), D(2025, 2, 15)]
    assert waitlist_over_time(START, END, today=D(2024, 12, 1)) == ()


def test_empty_waitlist_has_no_median(db: None) -> None:
    assert waitlist_over_time(JAN, D(2025, 1, 31), today=TODAY) == (
        WaitlistPoint(D(2025, 1, 31), 0, None),
    )


@pytest.mark.parametrize("count", [2, 20])
def test_waitlist_queries_do_not_grow(
    django_assert_num_queries: Any, count: int
) -> None:
    for n in range(count):
        entry(D(2025, 1, 1 + n))
        admitted_entry(D(2025, 1, 1 + n), D(2025, 3, 1 + n))
    with django_assert_num_queries(1):
        points = waitlist_over_time(START, END, today=TODAY)
    assert [p.size for p in points] == [2 * count, 2 * count, count]


# --- Seat offers --------------------------------------------------------------------


def offer(day: datetime.date, outcome: str = "", **fields: Any) -> Any:
    at = local(day)
    return SeatOfferFactory(
        offered_at=at,
        expires_at=at + datetime.timedelta(days=3),
        outcome=outcome,
        outcome_at=at + datetime.timedelta(days=1) if outcome else None,
        **fields,
    )


@pytest.fixture
def offers(db: None) -> Any:
    """January: accepted, expired, declined. February: expired, and one in another
    program's track. March: one still open. December: one, outside the period."""
    track = TrackFactory()
    other = TrackFactory(program=ProgramFactory(name="Adult PHP", level_of_care="php"))
    offer(D(2025, 1, 5), "accepted", track=track)
    offer(D(2025, 1, 6), "expired", track=track)
    offer(D(2025, 1, 7), "declined", track=track)
    offer(D(2025, 2, 7), "expired", track=track)
    offer(D(2025, 2, 8), "accepted", track=other)
    offer(D(2025, 3, 9), track=track)
    offer(D(2024, 12, 9), "accepted", track=track)
    return track


def test_offers_made_by_month_and_outcome(offers: Any) -> None:
    assert seat_offers(START, END) == (
        OfferMonth(JAN, made=3, accepted=1, declined=1, expired=1, still_open=0),
        OfferMonth(FEB, made=2, accepted=1, declined=0, expired=1, still_open=0),
        OfferMonth(MAR, made=1, accepted=0, declined=0, expired=0, still_open=1),
    )


def test_offers_in_chosen_tracks(offers: Any) -> None:
    months = seat_offers(START, END, track_ids=[offers.pk])
    assert [(m.made, m.accepted) for m in months] == [(3, 1), (1, 0), (1, 0)]


@pytest.mark.parametrize("count", [2, 20])
def test_offer_queries_do_not_grow(django_assert_num_queries: Any, count: int) -> None:
    for n in range(count):
        offer(D(2025, 1, 1 + n), "accepted")
    with django_assert_num_queries(1):
        assert seat_offers(START, END)[0].made == count


# --- The report page ----------------------------------------------------------------


@pytest.fixture
def manager(make_staff: Any) -> Any:
    return make_staff(roles.PROGRAM_MANAGER)


@pytest.fixture
def busy_january(db: None) -> None:
    """January: 8 by phone (6 from a clinician, 2 not recorded; 5 of the clinician's
    admitted after 10, 12, 14, 16 and 18 days) and 3 by web form from the web, none
    admitted. February: 1 walk-in."""
    for n in range(5):
        day = D(2025, 1, 2 + n)
        admitted = day + datetime.timedelta(days=10 + 2 * n)
        inquiry(day, source="clinician", status="admitted", admitted_on=admitted)
    inquiry(D(2025, 1, 7), source="clinician")
    for n in range(2):
        inquiry(D(2025, 1, 10 + n))
    for n in range(3):
        inquiry(D(2025, 1, 20 + n), channel="web_form", source="web")
    inquiry(D(2025, 2, 3), channel="walk_in")


def test_report_figures_with_their_definitions(busy_january: None) -> None:
    result = build(IntakeFunnel, filters(START, END))
    assert figure(result, "Inquiries received").display == "12"
    assert figure(result, "Led to an admission").display == "5"
    assert figure(result, "Conversion").display == "41.7%"
    assert figure(result, "Median wait from inquiry to admission (days)").display == (
        "14.0"
    )
    definitions = [
        item.definition
        for section in result.sections
        for item in [*section.figures, *section.tables, *section.charts]
        if isinstance(item, Figure | Table | Chart)
    ]
    assert any(
        "Conversion = inquiries of the cohort that led" in d for d in definitions
    )
    assert any(
        "Wait = admission date - the inquiry's received" in d for d in definitions
    )
    assert any("Cohort: the inquiries received in the period" in d for d in definitions)


def test_small_cells_are_hidden_with_their_complements(busy_january: None) -> None:
    """February's single walk-in is hidden, so in "by month" January's 11 is hidden
    with it (the total of 12 would give it back). January's 11 is the same cell in
    "by channel", where it and the web form's 3 now hide each other: the phone's 8
    can stay. A number shown twice is hidden in both places."""
    result = build(IntakeFunnel, filters(START, END))
    by_month = table(result, "Inquiries by month received")
    assert by_month["Feb 2025"]["Inquiries"] == "<5"
    assert by_month["Jan 2025"]["Inquiries"] == "<5"
    assert by_month["Total"]["Inquiries"] == "12"
    channels = table(result, "Inquiries per month by channel")
    assert channels["Web form"]["Jan 2025"] == "<5"
    assert channels["Total"]["Jan 2025"] == "<5"
    assert channels["Phone"]["Jan 2025"] == "8"
    assert channels["Walk-in"]["Feb 2025"] == "<5"
    assert channels["Total"]["Total"] == "12"
    by_source = table(result, "Conversion and wait by how they heard of us")
    assert by_source["Clinician"] == {
        "Inquiries": "6",
        "Led to an admission": "5",
        "Conversion": "83.3%",
        "Median wait (days)": "14.0",
    }
    # 3 from the web, none admitted: the count and everything made of it is hidden.
    assert by_source["Web search or website"]["Inquiries"] == "<5"
    assert by_source["Web search or website"]["Conversion"] == "<5"
    assert by_source["Not recorded"]["Median wait (days)"] == "–"


def test_the_waitlist_and_offers_on_the_report(waitlist: None, offers: Any) -> None:
    result = build(IntakeFunnel, filters(START, END))
    assert chart(result, "People on the waitlist at the end of each month") == {
        "On the waitlist": ["<5", "<5", "<5"]
    }
    offers_by_month = table(result, "Seat offers by month made")
    assert offers_by_month["Total"]["Made"] == "6"
    assert figure(result, "Offers made").display == "6"
    assert figure(result, "Accepted").display == "<5"


def test_a_program_narrows_offers_and_the_waitlist_not_inquiries(
    busy_january: None, offers: Any
) -> None:
    """The PHP program: its one offer; the inquiries stay the whole clinic's."""
    php = Track.objects.get(program__name="Adult PHP")
    result = build(IntakeFunnel, filters(START, END, program=php.program))
    assert table(result, "Seat offers by month made")["Total"]["Made"] == "<5"
    assert figure(result, "Inquiries received").display == "12"


@pytest.mark.parametrize("count", [2, 20])
def test_report_data_in_three_queries(count: int, db: None) -> None:
    track = TrackFactory()
    for n in range(count):
        inquiry(D(2025, 1, 1 + n), status="admitted", admitted_on=D(2025, 2, 1 + n))
        admitted_entry(D(2025, 1, 1 + n), D(2025, 3, 1 + n))
        offer(D(2025, 1, 1 + n), "accepted", track=track)
    assert data_queries(IntakeFunnel, filters(START, END)) == 3
    assert data_queries(IntakeFunnel, filters(START, END, track=track)) == 3


def test_the_page_and_its_export(client: Any, manager: Any, busy_january: None) -> None:
    client.force_login(manager)
    query = "start=2025-01-01&end=2025-03-31"
    page = client.get(f"{reverse('admin:reports_intake_funnel')}?{query}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Conversion = inquiries of the cohort" in text
    assert "<svg" in text
    export = client.get(f"{reverse('admin:reports_intake_funnel_export')}?{query}")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert ["Inquiries received", "12", COHORT] in rows
    assert ["Web search or website", "<5", "0", "<5", "–"] in rows


def test_the_report_counts_admissions_up_to_its_today(cohort: None) -> None:
    """F is admitted on 10 July: not yet on 9 July, from 10 July on."""
    before = build(IntakeFunnel, filters(START, END, today=D(2025, 7, 9)))
    on_the_day = build(IntakeFunnel, filters(START, END, today=D(2025, 7, 10)))
    assert figure(before, "Led to an admission").display == "<5"
    assert figure(on_the_day, "Led to an admission").display == "5"


@pytest.mark.postgres
def test_no_query_needs_a_sequential_scan_of_enrollments_or_clients(
    cohort: None, waitlist: None, offers: Any
) -> None:
    """With sequential scans priced out, PostgreSQL still finds an index for every
    read of enrollments and clients (EXPLAIN of each of the report's queries)."""
    assert scanned_whole(IntakeFunnel, filters(START, END)) == set()
    assert scanned_whole(IntakeFunnel, filters(START, END, track=offers)) == set()
