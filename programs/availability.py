"""What the clinic can tell the public: seats, waiting periods, evening hours.

Computed from tracks, enrollments and the waitlist, never typed. The public figures say
"open" / "limited" / "full" instead of counts, so no number below 5 is ever published
(DOMAIN.md section 7).
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils import timezone

from intake.models import Schedule, WaitlistEntry

from .models import Enrollment, Track

WAIT_WINDOW_DAYS = 90
LIMITED_BELOW = 5


@dataclass(frozen=True)
class TrackAvailability:
    track: Track
    capacity: int
    held: int
    open_seats: int
    waiting: int
    # Median days from joining the waitlist to admission over the last 90 days; 0 when
    # seats are open and nobody waits; None when there is nothing to go on.
    waiting_period_days: int | None

    @property
    def seats_label(self) -> str:
        if self.open_seats <= 0:
            return "full"
        return "limited" if self.open_seats < LIMITED_BELOW else "open"


def track_availability() -> list[TrackAvailability]:
    """One row per active track; three queries, whatever the size of the data."""
    tracks: list[Any] = list(
        Track.objects.active().with_seats().select_related("program")  # type: ignore[attr-defined]
    )
    waiting: dict[tuple[str, str], int] = {
        (row["level_of_care"], row["preferred_schedule"]): row["n"]
        for row in WaitlistEntry.objects.waiting()
        .values("level_of_care", "preferred_schedule")
        .annotate(n=Count("id"))
    }
    since = timezone.localdate() - datetime.timedelta(days=WAIT_WINDOW_DAYS)
    waits: dict[int, list[int]] = defaultdict(list)
    for track_id, admitted_on, added_on in Enrollment.objects.filter(
        admitted_on__gte=since, waitlist_entry__isnull=False
    ).values_list("track_id", "admitted_on", "waitlist_entry__added_on"):
        waits[track_id].append((admitted_on - added_on).days)
    rows = []
    for track in tracks:
        level = track.program.level_of_care
        in_line = waiting.get((level, track.schedule), 0) + waiting.get(
            (level, Schedule.EITHER), 0
        )
        if track.open_count > 0 and in_line == 0:
            period: int | None = 0
        elif waits[track.pk]:
            period = round(statistics.median(waits[track.pk]))
        else:
            period = None
        rows.append(
            TrackAvailability(
                track=track,
                capacity=track.capacity,
                held=track.held_count,
                open_seats=track.open_count,
                waiting=in_line,
                waiting_period_days=period,
            )
        )
    return rows


def public_availability() -> dict[str, Any]:
    """The public summary at /availability.json: no client data, no small counts."""
    rows = track_availability()
    programs: dict[str, dict[str, Any]] = {}
    for row in rows:
        program = row.track.program
        entry = programs.setdefault(
            program.name,
            {
                "program": program.name,
                "level_of_care": program.level_of_care,
                "tracks": [],
            },
        )
        entry["tracks"].append(
            {
                "schedule": row.track.schedule,
                "seats": row.seats_label,
                "waiting_period_days": row.waiting_period_days,
                "no_waiting_period": row.waiting_period_days == 0,
            }
        )
    return {
        "accepting_new_clients": bool(rows),
        "referral_required": False,
        "evening_hours_available": any(
            row.track.schedule == "evening" and row.open_seats > 0 for row in rows
        ),
        "programs": list(programs.values()),
        "as_of": timezone.now().isoformat(timespec="seconds"),
    }


def ready_to_offer() -> list[tuple[Track, WaitlistEntry]]:
    """For each active track with an open seat, the person to offer it to: the head of
    the waitlist for its level of care (DOMAIN.md section 2 order: urgent first, then
    longest waiting), those wanting this schedule before those who take either.

    Two queries whatever the number of tracks: the tracks, and everyone waiting (the
    waitlist is short next to the records behind it) in queue order."""
    tracks = list(
        Track.objects.active()  # type: ignore[attr-defined]
        .with_seats()
        .select_related("program")
        .filter(open_count__gt=0)  # type: ignore[misc]
    )
    if not tracks:
        return []
    waiting = list(
        WaitlistEntry.objects.waiting()
        .filter(level_of_care__in={track.program.level_of_care for track in tracks})
        .select_related("client")
        .order_by("priority", "added_on", "id")
    )
    ready = []
    for track in tracks:
        level = track.program.level_of_care
        in_line = [entry for entry in waiting if entry.level_of_care == level]
        head = next(
            (e for e in in_line if e.preferred_schedule == track.schedule),
            next((e for e in in_line if e.preferred_schedule == Schedule.EITHER), None),
        )
        if head is not None:
            ready.append((track, head))
    return ready
