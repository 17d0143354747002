"""The "Today's work" panel on the admin index: each user's own queues, with counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from discharge.models import DischargePlan, FollowUp
from intake.models import HighRiskInquiry, Inquiry
from programs import compliance
from programs.availability import ready_to_offer
from programs.models import Assessment, EmergencyAccess, Enrollment, HoldPeriod


@dataclass(frozen=True)
class WorkItem:
    label: str
    count: int
    url: str
    urgent: bool = False


def todays_work(request: HttpRequest) -> list[WorkItem]:
    """The queues this user works, as links with counts (a fixed number of queries)."""
    user = request.user
    items = []
    if user.has_perm("intake.view_inquiry"):
        inquiries = reverse("admin:intake_inquiry_changelist")
        open_inquiries = Inquiry.objects.open()
        items += [
            WorkItem(
                "My open inquiries",
                open_inquiries.filter(assigned_coordinator=user.pk).count(),
                f"{inquiries}?{urlencode({'open': 'yes', 'assigned': 'me'})}",
            ),
            WorkItem(
                "Follow-ups due today or overdue",
                Inquiry.objects.follow_up_due().count(),
                f"{inquiries}?{urlencode({'follow_up': 'due'})}",
            ),
            WorkItem(
                "Open high-risk inquiries",
                open_inquiries.high_risk().count(),
                f"{inquiries}?{urlencode({'open': 'yes', 'risk_level': '3'})}",
                urgent=True,
            ),
        ]
    if user.has_perm("programs.add_seatoffer") or user.has_perm(
        "intake.change_waitlistentry"
    ):
        waitlist = reverse("admin:intake_waitlistentry_changelist")
        for track, entry in ready_to_offer():
            query = {"level_of_care": entry.level_of_care, "q": entry.client.mrn}
            items.append(
                WorkItem(
                    f"Ready to offer: a seat in {track}, next is "
                    f"{entry.client.display_name} ({entry.get_priority_display()})",
                    track.open_count,  # type: ignore[attr-defined]
                    f"{waitlist}?{urlencode(query)}",
                )
            )
    if user.has_perm("programs.view_assessment"):
        # Live, never cached: a safety answer must show the moment it is recorded.
        assessments = reverse("admin:programs_assessment_changelist")
        items.append(
            WorkItem(
                "PHQ-9 item 9: follow-up needed",
                Assessment.objects.visible_to(user)  # type: ignore[attr-defined]
                .needing_safety_followup()
                .count(),
                f"{assessments}?{urlencode({'item9': 'needs_followup'})}",
                urgent=True,
            )
        )
    if user.has_perm("discharge.view_dischargeplan"):
        # DOMAIN.md section 5: summaries within 15 days; check-ins after discharge.
        today = timezone.localdate()
        episodes = Enrollment.objects.visible_to(user).values("pk")
        plans = DischargePlan.objects.filter(enrollment__in=episodes)
        discharge_plans = reverse("admin:discharge_dischargeplan_changelist")
        follow_ups = reverse("admin:discharge_followup_changelist")
        items += [
            WorkItem(
                "Discharge summaries overdue (15 days)",
                plans.summary_overdue(today).count(),
                f"{discharge_plans}?{urlencode({'due': 'summary_overdue'})}",
                urgent=True,
            ),
            WorkItem(
                "Discharges planned in the next 7 days",
                plans.planned_between(today, today + timedelta(days=7)).count(),
                f"{discharge_plans}?{urlencode({'due': 'this_week'})}",
            ),
            WorkItem(
                "Post-discharge follow-ups overdue",
                FollowUp.objects.filter(plan__enrollment__in=episodes)
                .overdue(today)
                .count(),
                f"{follow_ups}?{urlencode({'overdue': 'yes'})}",
            ),
        ]
    if user.has_perm("programs.view_enrollment"):
        enrollments = reverse("admin:programs_enrollment_changelist")
        below, unexcused = attendance_flag_counts(user)
        items += [
            WorkItem(
                "Below the weekly minimum last week",
                below,
                f"{enrollments}?{urlencode({'flag': 'below_minimum'})}",
            ),
            WorkItem(
                "2+ unexcused absences in 14 days",
                unexcused,
                f"{enrollments}?{urlencode({'flag': 'unexcused'})}",
                urgent=True,
            ),
        ]
    if user.has_perm("programs.view_treatmentplan"):
        # DOMAIN.md section 3: late plans and reviews are auditors' first finding.
        enrollments = reverse("admin:programs_enrollment_changelist")
        caseload = Enrollment.objects.visible_to(user)
        today = timezone.localdate()
        items += [
            WorkItem(
                "Treatment plans or reviews overdue",
                caseload.plan_overdue(today).count(),
                f"{enrollments}?{urlencode({'plan_due': 'overdue'})}",
                urgent=True,
            ),
            WorkItem(
                "Treatment plans or reviews due in the next 7 days",
                caseload.plan_due_soon(today).count(),
                f"{enrollments}?{urlencode({'plan_due': 'soon'})}",
            ),
        ]
    if user.has_perm("programs.view_every_enrollment"):
        enrollments = reverse("admin:programs_enrollment_changelist")
        items.append(
            WorkItem(
                "Holds past their seat-keeping days",
                HoldPeriod.objects.past_seat_limit().count(),
                f"{enrollments}?{urlencode({'status__exact': 'on_hold'})}",
                urgent=True,
            )
        )
    if user.has_perm("programs.change_emergencyaccess"):
        # The privacy officer reviews every "break the glass" (unreviewed first).
        items.append(
            WorkItem(
                "Emergency accesses to review",
                EmergencyAccess.objects.unreviewed().count(),
                f"{reverse('admin:programs_emergencyaccess_changelist')}?"
                f"{urlencode({'reviewed': 'no'})}",
            )
        )
    elif user.has_perm("programs.add_emergencyaccess"):
        items.append(
            WorkItem(
                "My emergency accesses in force",
                EmergencyAccess.objects.active().filter(user=user.pk).count(),
                reverse("admin:programs_emergencyaccess_changelist"),
            )
        )
    if user.has_perm("intake.change_highriskinquiry"):
        items.append(
            WorkItem(
                "High-risk inquiries awaiting a clinician",
                HighRiskInquiry.objects.awaiting_clinical_review().count(),
                reverse("admin:intake_highriskinquiry_changelist"),
                urgent=True,
            )
        )
    return items


FLAG_CACHE_SECONDS = 300


def attendance_flag_counts(user: Any) -> tuple[int, int]:
    """How many of the user's enrollments are below last week's minimum, and how many
    have 2+ unexcused absences. For someone who sees every enrollment this reads a
    week of attendance for the whole census, so it is cached for a few minutes rather
    than recomputed on every visit to the index (the list filter is always live)."""

    def compute() -> tuple[int, int]:
        caseload = Enrollment.objects.visible_to(user)
        last_monday = compliance.monday_of(timezone.localdate()) - timedelta(weeks=1)
        return (
            len(compliance.below_minimum(caseload, last_monday)),
            len(compliance.frequent_unexcused(caseload)),
        )

    key = f"iopclinic:attendance-flags:{user.pk}:{timezone.localdate():%Y-%m-%d}"
    below, unexcused = cache.get_or_set(key, compute, FLAG_CACHE_SECONDS) or compute()
    return below, unexcused
