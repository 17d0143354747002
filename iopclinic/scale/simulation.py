"""Ten years of people asking for care and taking seats, simulated day by day.

Requests for care are served in the order of the day they could start, each by the
first seat to free in a track of its level at the person's site (a heap of the days
each occupant leaves), so no track ever holds more people than it has seats: the
seats held on any day, and today's seats held by active, on-hold and scheduled
enrollments together, never exceed its capacity. Episodes of one person never
overlap: a return is asked for only after the discharge.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import random
from dataclasses import dataclass, field

from .world import Names, Person, Site, TrackInfo, invent_person

YEARS = 10
# A scheduled admission further ahead than this is not booked yet: they wait.
BOOK_AHEAD_DAYS = 14
# Share of people who, once on the waitlist, leave it without a seat.
DROP_OUT = 0.08
# Chance of coming back for another episode after a discharge.
RETURNS = 0.28

# DOMAIN.md section 5 types, weighted per level; and how much of a full stay each
# type tends to last.
DISCHARGE_WEIGHTS = {
    "iop": {
        "completed": 50, "stepped_down": 8, "transferred": 5, "against_advice": 10,
        "stepped_up": 7, "administrative": 6, "lost_contact": 10, "other": 4,
    },
    "php": {
        "completed": 35, "stepped_down": 30, "transferred": 4, "against_advice": 8,
        "stepped_up": 8, "administrative": 4, "lost_contact": 7, "other": 4,
    },
}  # fmt: skip
LENGTH_SHARE = {
    "completed": 1.0, "stepped_down": 0.85, "transferred": 0.6, "against_advice": 0.4,
    "stepped_up": 0.5, "administrative": 0.6, "lost_contact": 0.5, "other": 0.7,
}  # fmt: skip
# Days in treatment when a stay runs its course (DOMAIN.md section 1: IOP 30-60
# days, PHP weeks).
FULL_STAY = {"iop": (42, 74), "php": (18, 42)}
HOLD_REASONS = [
    "Short inpatient medical stay.",
    "Surgery and recovery at home.",
    "Family emergency out of state.",
]


@dataclass
class Request:
    """One approach for care: an inquiry (or a step down from PHP, without one)."""

    person: Person
    level: str
    schedule: str  # day, evening or either
    received_at: datetime.datetime | None  # the inquiry; None for a step down
    desired: datetime.date
    via_waitlist: bool
    risk: str  # the safety screen template: none, low, moderate, high
    drops_out: bool = False
    step_down_from: Episode | None = None
    # Filled by the simulation.
    outcome: str = ""  # admitted, waiting, dropped, no_seat
    episode: Episode | None = None
    dropped_on: datetime.date | None = None
    waitlist_entry_id: int | None = None
    inquiry_id: int | None = None
    # Filled with the inquiry (intake_rows).
    added_on: datetime.date | None = None
    waitlisted_at: datetime.datetime | None = None
    removed: tuple[str, datetime.date] | None = None


@dataclass
class Episode:
    id: int
    person: Person
    track: TrackInfo
    request: Request
    admitted_on: datetime.date
    planned_last_day: datetime.date
    discharged_on: datetime.date | None
    status: str
    discharge_type: str
    therapist_id: int
    psychiatrist_id: int | None
    booked_at: datetime.datetime
    attend_rate: float
    hold: Hold | None = None
    plan_due_on: datetime.date | None = None

    @property
    def last_day(self) -> datetime.date:
        """The last day on the roster: the discharge, or the planned end."""
        return self.discharged_on or self.planned_last_day


@dataclass
class Hold:
    starts_on: datetime.date
    keep_seat_until: datetime.date
    ended_on: datetime.date | None
    reason: str


@dataclass
class World:
    today: datetime.date
    now: datetime.datetime
    tz: datetime.tzinfo
    start: datetime.date
    sites: list[Site]
    tracks: list[TrackInfo]
    people: list[Person] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)


def local(day: datetime.date, hour: float, tz: datetime.tzinfo) -> datetime.datetime:
    """An aware datetime ``hour`` hours into ``day`` in the clinic's time zone."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=tz) + (
        datetime.timedelta(hours=hour)
    )


def simulate(
    rng: random.Random,
    *,
    client_count: int,
    sites: list[Site],
    tracks: list[TrackInfo],
    now: datetime.datetime,
    tz: datetime.tzinfo,
) -> World:
    today = now.astimezone(tz).date()
    start = today - datetime.timedelta(days=round(YEARS * 365.25))
    world = World(today, now, tz, start, sites, tracks)
    names = Names(rng)
    seq = itertools.count()
    pending: list[tuple[datetime.date, int, Request]] = []
    last_first_contact = today - datetime.timedelta(days=10)
    span = (last_first_contact - start).days

    def ask(person: Person, received: datetime.datetime) -> Request:
        level = "php" if rng.random() < 0.3 else "iop"
        schedule = (
            "day"
            if level == "php"
            else rng.choices(["day", "evening", "either"], [38, 32, 30])[0]
        )
        via_waitlist = rng.random() < 0.75
        # Contacted, screened and eligible within three days (intake_rows), then
        # ready to start a few days later.
        ready = received.date() + datetime.timedelta(days=rng.randint(3, 5))
        desired = ready + datetime.timedelta(
            days=rng.randint(3, 20) if via_waitlist else rng.randint(2, 10)
        )
        risk = rng.choices(["none", "low", "moderate", "high"], [66, 18, 11, 5])[0]
        request = Request(
            person=person,
            level=level,
            schedule=schedule,
            received_at=received,
            desired=desired,
            via_waitlist=via_waitlist,
            risk=risk,
            drops_out=via_waitlist and rng.random() < DROP_OUT,
        )
        world.requests.append(request)
        heapq.heappush(pending, (desired, next(seq), request))
        return request

    for index in range(client_count):
        site = rng.randrange(len(sites))
        first_contact = start + datetime.timedelta(days=rng.randint(0, span))
        person = invent_person(rng, names, index, site, first_contact)
        world.people.append(person)
        ask(person, local(first_contact, rng.uniform(8, 19), tz))

    seats: dict[int, list[datetime.date]] = {track.id: [] for track in tracks}
    held_today: dict[int, int] = dict.fromkeys(seats, 0)
    episode_ids = itertools.count(1)
    while pending:
        desired, _, request = heapq.heappop(pending)
        if request.drops_out:
            request.outcome = "dropped"
            continue
        home = sites[request.person.site]
        candidates = [
            home.tracks[(request.level, schedule)]
            for schedule in (
                rng.sample(["day", "evening"], 2)
                if request.schedule == "either"
                else [request.schedule]
            )
        ]

        admitted_on, choice = min(
            (free_from(seats[track.id], track.capacity, desired), n)
            for n, track in enumerate(candidates)
        )
        track = candidates[choice]
        if request.step_down_from is not None and admitted_on > desired:
            request.outcome = "no_seat"  # stepped down elsewhere
            continue
        if admitted_on > today and (
            admitted_on > today + datetime.timedelta(days=BOOK_AHEAD_DAYS)
            or held_today[track.id] >= track.capacity
        ):
            request.outcome = "waiting"
            request.via_waitlist = True
            continue
        episode = admit(rng, world, request, track, admitted_on, next(episode_ids), tz)
        occupants = seats[track.id]
        if len(occupants) < track.capacity:
            heapq.heappush(occupants, episode.planned_last_day)
        else:
            heapq.heapreplace(occupants, episode.planned_last_day)
        if episode.discharged_on is None:
            held_today[track.id] += 1
            continue
        # What follows a discharge: a step down into IOP the next day, or later a
        # new inquiry from the same person.
        after = episode.discharged_on + datetime.timedelta(days=1)
        if episode.discharge_type == "stepped_down" and track.level == "php":
            follow = Request(
                person=request.person,
                level="iop",
                schedule=rng.choice(["day", "evening", "either"]),
                received_at=None,
                desired=after,
                via_waitlist=False,
                risk="none",
                step_down_from=episode,
            )
            world.requests.append(follow)
            heapq.heappush(pending, (after, next(seq), follow))
        elif rng.random() < RETURNS:
            again = after + datetime.timedelta(days=rng.randint(60, 1500))
            if again <= last_first_contact:
                ask(request.person, local(again, rng.uniform(8, 19), tz))
    return world


def free_from(
    occupants: list[datetime.date], capacity: int, desired: datetime.date
) -> datetime.date:
    """The first day from ``desired`` with a seat: the day after the earliest
    occupant's last day, when every seat is taken."""
    if len(occupants) < capacity:
        return desired
    return max(desired, occupants[0] + datetime.timedelta(days=1))


def admit(
    rng: random.Random,
    world: World,
    request: Request,
    track: TrackInfo,
    admitted_on: datetime.date,
    episode_id: int,
    tz: datetime.tzinfo,
) -> Episode:
    """The enrollment this request becomes, with how (and whether yet) it ends."""
    today = world.today
    low, high = FULL_STAY[track.level]
    weights = DISCHARGE_WEIGHTS[track.level]
    kind = rng.choices(list(weights), list(weights.values()))[0]
    length = max(2, round(rng.randint(low, high) * LENGTH_SHARE[kind]))
    last_day = admitted_on + datetime.timedelta(days=length - 1)
    site = world.sites[track.site]
    booked = local(admitted_on - datetime.timedelta(days=rng.randint(0, 3)), 11, tz)
    if request.received_at is not None:
        booked = max(booked, request.received_at + datetime.timedelta(days=3))
    booked = min(booked, world.now - datetime.timedelta(minutes=rng.randint(5, 600)))
    open_ = last_day >= today or admitted_on > today
    episode = Episode(
        id=episode_id,
        person=request.person,
        track=track,
        request=request,
        admitted_on=admitted_on,
        planned_last_day=last_day,
        discharged_on=None if open_ else last_day,
        status=(
            "scheduled"
            if admitted_on > today
            else ("active" if open_ else "discharged")
        ),
        discharge_type="" if open_ else kind,
        therapist_id=rng.choice(site.therapists),
        psychiatrist_id=site.psychiatrist
        if track.level == "php" or rng.random() < 0.3
        else None,
        booked_at=booked,
        attend_rate=rng.uniform(0.7, 0.97)
        if kind in ("completed", "stepped_down", "transferred")
        else rng.uniform(0.5, 0.85),
    )
    add_hold(rng, episode, today)
    request.outcome = "admitted"
    request.episode = episode
    world.episodes.append(episode)
    return episode


def add_hold(rng: random.Random, episode: Episode, today: datetime.date) -> None:
    """A few past holds inside finished stays; a few enrollments on hold today."""
    day = datetime.timedelta(days=1)
    reason = rng.choice(HOLD_REASONS)
    if episode.status == "discharged":
        length = (episode.planned_last_day - episode.admitted_on).days + 1
        if length >= 21 and rng.random() < 0.03:
            starts = episode.admitted_on + rng.randint(7, length - 10) * day
            episode.hold = Hold(
                starts, starts + 14 * day, starts + rng.randint(3, 9) * day, reason
            )
    elif (
        episode.status == "active"
        and episode.admitted_on <= today - 7 * day
        and rng.random() < 0.04
    ):
        starts = max(episode.admitted_on + day, today - rng.randint(0, 20) * day)
        episode.hold = Hold(starts, starts + 14 * day, None, reason)
        episode.status = "on_hold"
