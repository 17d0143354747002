"""What ``make bench`` measures: the heaviest admin pages (unfiltered, filtered,
searched, one record's change page), the admin index, and the manager reports
listed in ``iopclinic.reports.REPORTS`` when that registry exists.

Records and search terms are picked by queries, so the same page list runs on the
demo-sized dataset and on the full one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils.http import urlencode

from intake.models import Client, Inquiry
from iopclinic.reports import REPORTS
from programs.models import Assessment, Enrollment, GroupSession, Program, Track

# Goals at the full size (the issue): list pages and the index under 100 ms, change
# pages under 50 ms, a report under 300 ms.
GOAL_MS = {"list": 100, "change": 50, "index": 100, "report": 300}


@dataclass(frozen=True)
class Page:
    section: str
    label: str
    url: str
    kind: str  # list, change, index, report
    user: str = "superuser"  # or "manager"

    @property
    def goal_ms(self) -> int | None:
        return GOAL_MS[self.kind]


@dataclass(frozen=True)
class Records:
    """The records and terms the pages are about."""

    client: Client
    enrollment: Enrollment
    inquiry: Inquiry
    session: GroupSession
    assessment: Assessment
    track: Track
    program: Program


def pick_records() -> Records:
    """A returning client; the active enrollment with the longest stay so far (the
    most attendance and scores on its page); an open, screened inquiry without a
    client (its page searches for possible duplicates); a past session of that
    enrollment's track with the roll taken."""
    enrollment = (
        Enrollment.objects.filter(status="active")
        .select_related("client", "track__program")
        .order_by("admitted_on", "id")
        .first()
    )
    if enrollment is None:
        raise LookupError("No active enrollment: is the dataset generated?")
    returning = (
        Client.objects.annotate(episodes=Count("enrollments"))
        .filter(episodes__gt=1)
        .order_by("pk")
        .first()
    ) or enrollment.client
    # Screened and assigned, so its page shows who did what at any size.
    open_inquiries = Inquiry.objects.open().filter(client__isnull=True)
    inquiry = (
        open_inquiries.filter(
            risk_level__isnull=False, assigned_coordinator__isnull=False
        )
        .order_by("pk")
        .first()
    ) or open_inquiries.order_by("pk").first()
    session = (
        GroupSession.objects.filter(
            track=enrollment.track_id, roll_taken_at__isnull=False
        )
        .order_by("-starts_at")
        .first()
    )
    assessment = (
        Assessment.objects.filter(enrollment=enrollment).order_by("-id").first()
    )
    if inquiry is None or session is None or assessment is None:
        raise LookupError("The dataset lacks an open inquiry, a session or a score.")
    return Records(
        client=returning,
        enrollment=enrollment,
        inquiry=inquiry,
        session=session,
        assessment=assessment,
        track=enrollment.track,
        program=enrollment.track.program,
    )


def admin_url(name: str, *args: Any, **query: Any) -> str:
    url = reverse(f"admin:{name}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


def admin_pages(records: Records) -> list[Page]:
    client, enrollment = records.client, records.enrollment
    last_name, mrn = client.last_name, client.mrn
    track = str(records.track.pk)
    therapist = str(enrollment.primary_therapist_id)

    def lists(
        section: str, name: str, filters: dict[str, dict[str, str]], searches: bool
    ) -> list[Page]:
        changelist = f"{name}_changelist"
        pages = [Page(section, "list", admin_url(changelist), "list")]
        for label, query in filters.items():
            pages.append(Page(section, label, admin_url(changelist, **query), "list"))
        if searches:
            pages += [
                Page(section, "search: last name", admin_url(changelist, q=last_name),
                     "list"),
                Page(section, "search: MRN", admin_url(changelist, q=mrn), "list"),
            ]  # fmt: skip
        return pages

    return [
        Page("Admin", "index (superuser)", admin_url("index"), "index"),
        Page("Admin", "index (program manager)", admin_url("index"), "index",
             user="manager"),
        *lists("Clients", "intake_client", {}, searches=True),
        Page("Clients", "change page", admin_url("intake_client_change", client.pk),
             "change"),
        *lists("Inquiries", "intake_inquiry", {
            "filter: open, follow-up due": {"open": "yes", "follow_up": "due"},
            "filter: closed": {"status__exact": "closed"},
        }, searches=True),
        Page("Inquiries", "change page",
             admin_url("intake_inquiry_change", records.inquiry.pk), "change"),
        *lists("Enrollments", "programs_enrollment", {
            "filter: active": {"status__exact": "active"},
            "filter: one track": {"track__id__exact": track},
        }, searches=True),
        Page("Enrollments", "change page",
             admin_url("programs_enrollment_change", enrollment.pk), "change"),
        *lists("Group sessions", "programs_groupsession", {
            "filter: one track": {"track__id__exact": track},
            "filter: roll not taken": {"roll": "not_taken"},
        }, searches=False),
        Page("Group sessions", "search: track name",
             admin_url("programs_groupsession_changelist",
                       q=records.track.name.split()[0]), "list"),
        Page("Group sessions", "change page",
             admin_url("programs_groupsession_change", records.session.pk), "change"),
        Page("Group sessions", "attendance (the roll)",
             admin_url("programs_groupsession_attendance", records.session.pk),
             "change"),
        *lists("Assessments", "programs_assessment", {
            "filter: PHQ-9, severe": {"instrument__exact": "phq9",
                                      "severity__exact": "severe"},
            "filter: item 9 needs follow-up": {"item9": "needs_followup"},
        }, searches=True),
        Page("Assessments", "change page",
             admin_url("programs_assessment_change", records.assessment.pk), "change"),
        *lists("Appointments", "programs_appointment", {
            "filter: one clinician": {"clinician__id__exact": therapist},
            "filter: individual therapy": {"service__exact": "individual_therapy"},
        }, searches=True),
        *lists("Treatment plans", "programs_treatmentplan", {}, searches=False),
        *lists("Plan reviews", "programs_planreview", {}, searches=False),
        *lists("Discharge plans", "discharge_dischargeplan", {}, searches=False),
        *lists("Follow-ups", "discharge_followup", {}, searches=False),
        *lists("Waitlist", "intake_waitlistentry", {}, searches=False),
    ]  # fmt: skip


def report_pages(records: Records) -> tuple[list[Page], str]:
    """Every registered report (``iopclinic.reports.REPORTS``), with its default
    filters (the last 12 complete months) and with one program over one month."""
    pages = []
    for report in REPORTS:
        url = reverse(report.url_name())
        default = report.default_querystring()
        narrow = report.narrow_querystring(records.program.pk)
        for label, query in (("default filters", default),
                             ("one program, one month", narrow)):  # fmt: skip
            target = f"{url}?{query}" if query else url
            pages.append(Page("Reports", f"{report.title}: {label} (program manager)",
                              target, "report", user="manager"))  # fmt: skip
    return pages, ""
