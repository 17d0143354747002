"""Programs at scale: enrollments with their placements and holds, ten years of group
sessions from each track's weekly blocks, the roll of every past session, and
individual appointments; as admission, the session generator and the roll leave them.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from typing import Any

from iopclinic.demo import DISCHARGE_MIX
from programs.models import (
    LEVEL_DEFAULTS,
    Appointment,
    Attendance,
    Enrollment,
    GroupSession,
    HoldPeriod,
    Placement,
)
from programs.models.sessions import GROUP_SERVICES

from .loading import copy_rows, copy_text
from .simulation import Episode, World, local

DAY = datetime.timedelta(days=1)
TOPICS = {
    "group_therapy": [
        "Check-in and goals for the week", "Relapse prevention", "Grief and loss",
        "Managing conflict at home", "Shame and self-compassion", "Sleep and mood",
    ],
    "psychoeducation": [
        "Depression: what helps", "The anxiety cycle", "Medication questions",
        "Thinking traps", "Building a safety plan", "Values and small steps",
    ],
    "therapeutic_activity": [
        "Mindfulness practice", "Art therapy", "Journaling", "Movement and breath",
        "Team building", "Music and mood",
    ],
}  # fmt: skip
GROUP_SERVICE_CODES = {service.value for service in GROUP_SERVICES}
# How someone present is marked: most on time, a few late or leaving early.
LATE, LEFT_EARLY = 0.06, 0.03

ENROLLMENT_COLUMNS = [
    "id", "client", "track", "status", "admitted_on", "expected_end",
    "primary_therapist", "psychiatrist", "waitlist_entry", "discharged_on",
    "discharge_type", "discharge_reason", "plan_due_on",
]  # fmt: skip
PLACEMENT_COLUMNS = [
    "id", "enrollment", "from_track", "to_track", "on", "reason", "placed_by",
    "recorded_at",
]  # fmt: skip
HOLD_COLUMNS = [
    "id", "enrollment", "starts_on", "keep_seat_until", "reason", "ended_on",
    "placed_by", "ended_by",
]  # fmt: skip
SESSION_COLUMNS = [
    "id", "track", "block", "service", "starts_at", "duration_minutes", "facilitator",
    "topic", "cancelled", "roll_taken_at", "roll_taken_by",
]  # fmt: skip
APPOINTMENT_COLUMNS = [
    "id", "starts_at", "enrollment", "service", "duration_minutes", "clinician",
    "attendance", "minutes_attended",
]  # fmt: skip


def write_enrollments(world: World) -> dict[str, int]:
    episodes = world.episodes

    def enrollment_rows() -> Iterator[tuple[Any, ...]]:
        for e in episodes:
            weeks = LEVEL_DEFAULTS[e.track.level]["typical_length_weeks"]
            yield (
                e.id,
                e.person.client_id,
                e.track.id,
                e.status,
                e.admitted_on,
                e.admitted_on + datetime.timedelta(weeks=weeks),
                e.therapist_id,
                e.psychiatrist_id,
                e.request.waitlist_entry_id,
                e.discharged_on,
                e.discharge_type,
                DISCHARGE_MIX[e.discharge_type][1] if e.discharge_type else "",
                e.plan_due_on,
            )

    def placement_rows() -> Iterator[tuple[Any, ...]]:
        for e in episodes:
            site = world.sites[e.track.site]
            yield (
                e.id,
                e.id,
                None,
                e.track.id,
                e.admitted_on,
                "Stepped down from PHP" if e.request.step_down_from else "Admission",
                site.coordinators[e.id % 2],
                e.booked_at,
            )

    def hold_rows() -> Iterator[tuple[Any, ...]]:
        hold_id = 0
        for e in episodes:
            if e.hold is None:
                continue
            hold_id += 1
            yield (
                hold_id,
                e.id,
                e.hold.starts_on,
                e.hold.keep_seat_until,
                e.hold.reason,
                e.hold.ended_on,
                e.therapist_id,
                e.therapist_id if e.hold.ended_on else None,
            )

    return {
        "enrollments": copy_rows(Enrollment, ENROLLMENT_COLUMNS, enrollment_rows()),
        "placements": copy_rows(Placement, PLACEMENT_COLUMNS, placement_rows()),
        "holds": copy_rows(HoldPeriod, HOLD_COLUMNS, hold_rows()),
    }


def is_holiday(day: datetime.date) -> bool:
    """New Year's Day, Independence Day, Thanksgiving and Christmas: no groups."""
    if (day.month, day.day) in {(1, 1), (7, 4), (12, 25)}:
        return True
    return day.month == 11 and day.weekday() == 3 and 22 <= day.day <= 28


def build_sessions(rng: random.Random, world: World) -> list[tuple[Any, ...]]:
    """Every group session of every track's weekly blocks, from ten years back to
    next week, numbered in time order (as ``generate_sessions`` would have made
    them, a week or two ahead each time)."""
    tz, today = world.tz, world.today
    sessions = []
    for track in world.tracks:
        by_weekday: dict[int, list[Any]] = {}
        for block in track.blocks:
            if block.service in GROUP_SERVICE_CODES:
                by_weekday.setdefault(block.weekday, []).append(block)
        day = world.start
        last = today + 7 * DAY
        while day <= last:
            for block in by_weekday.get(day.weekday(), []):
                starts_at = datetime.datetime.combine(day, block.start, tzinfo=tz)
                sessions.append((starts_at, track.id, block, day))
            day += DAY
    sessions.sort(key=lambda s: (s[0], s[1], s[2].id))
    rows = []
    for session_id, (starts_at, track_id, block, day) in enumerate(sessions, start=1):
        cancelled = is_holiday(day) or rng.random() < 0.005
        # The roll of the last two days is sometimes still to take; today's is.
        taken = (
            not cancelled
            and day < today
            and not (day >= today - 2 * DAY and rng.random() < 0.15)
        )
        ends = starts_at + datetime.timedelta(minutes=block.duration + 10)
        rows.append(
            (
                session_id,
                track_id,
                block.id,
                block.service,
                starts_at,
                block.duration,
                block.facilitator_id,
                rng.choice(TOPICS[block.service]),
                cancelled,
                ends if taken else None,
                block.facilitator_id if taken else None,
                day,
            )
        )
    return rows


def write_sessions(rows: list[tuple[Any, ...]]) -> int:
    return copy_rows(GroupSession, SESSION_COLUMNS, (row[:-1] for row in rows))


class Rosters:
    """Who is enrolled in each track on a day (on hold included, scheduled not), for
    days visited in order: the session's roster (``GroupSession.roster``)."""

    def __init__(self, world: World) -> None:
        self.waiting: dict[int, list[Episode]] = {}
        for episode in sorted(world.episodes, key=lambda e: (e.admitted_on, e.id)):
            if episode.admitted_on <= world.today:
                self.waiting.setdefault(episode.track.id, []).append(episode)
        self.next = dict.fromkeys(self.waiting, 0)
        self.active: dict[int, list[Episode]] = {track: [] for track in self.waiting}
        self.day: dict[int, datetime.date] = {}

    def on(self, track: int, day: datetime.date) -> list[Episode]:
        if track not in self.waiting:
            return []
        if self.day.get(track) != day:
            queue, position = self.waiting[track], self.next[track]
            active = [e for e in self.active[track] if e.last_day >= day]
            while position < len(queue) and queue[position].admitted_on <= day:
                if queue[position].last_day >= day:
                    active.append(queue[position])
                position += 1
            self.next[track], self.active[track], self.day[track] = (
                position,
                active,
                day,
            )
        return self.active[track]


def attendance_lines(
    rng: random.Random, world: World, sessions: list[tuple[Any, ...]]
) -> Iterator[str]:
    """The roll of every session whose roll was taken: a row per person on the
    roster, excused while on hold; minutes as the roll form fills them."""
    rosters = Rosters(world)
    attendance_id = 0
    random_ = rng.random
    for row in sessions:
        if row[9] is None:  # roll not taken
            continue
        session_id, track_id, duration, day = row[0], row[1], row[5], row[11]
        for episode in rosters.on(track_id, day):
            attendance_id += 1
            hold = episode.hold
            if (
                hold
                and hold.starts_on <= day
                and (hold.ended_on is None or day <= hold.ended_on)
            ):
                status, minutes = "excused", 0
            elif (roll := random_()) < episode.attend_rate:
                share = roll / episode.attend_rate
                if share < LATE:
                    status, minutes = "late", duration - 15
                elif share < LATE + LEFT_EARLY:
                    status, minutes = "left_early", duration - 20
                else:
                    status, minutes = "present", duration
            else:
                status = "excused" if random_() < 0.4 else "unexcused"
                minutes = 0
            yield f"{attendance_id}\t{session_id}\t{episode.id}\t{status}\t{minutes}\n"


def write_attendance(
    rng: random.Random, world: World, sessions: list[tuple[Any, ...]]
) -> int:
    return copy_text(
        Attendance,
        ["id", "session", "enrollment", "status", "minutes_attended"],
        attendance_lines(rng, world, sessions),
    )


def write_appointments(rng: random.Random, world: World) -> int:
    """Weekly individual therapy with the primary therapist, and medication
    management every two weeks with the psychiatrist, within each stay; attendance
    recorded once they have happened."""
    tz, now = world.tz, world.now
    rows = []
    for e in world.episodes:
        last = e.discharged_on or min(e.planned_last_day, world.today + 7 * DAY)
        hour = 16 if e.track.schedule == "evening" else 12
        plan = [("individual_therapy", 2, 7, hour, 50, e.therapist_id)]
        if e.psychiatrist_id:
            plan.append(("medication_management", 3, 14, 15, 30, e.psychiatrist_id))
        for service, offset, every, at, minutes, clinician in plan:
            day = e.admitted_on + offset * DAY
            while True:
                while day.weekday() >= 5:
                    day += DAY
                if day > last:
                    break
                starts_at = local(day, at, tz)
                attendance, attended = "", None
                if starts_at < now:
                    attendance = rng.choices(
                        ["present", "late", "excused", "unexcused"], [85, 3, 5, 7]
                    )[0]
                    attended = {"present": minutes, "late": minutes - 10}.get(
                        attendance, 0
                    )
                rows.append(
                    (starts_at, e.id, service, minutes, clinician, attendance, attended)
                )
                day += every * DAY
    rows.sort(key=lambda row: (row[0], row[1]))
    numbered = ((n, *row) for n, row in enumerate(rows, start=1))
    return copy_rows(Appointment, APPOINTMENT_COLUMNS, numbered)
