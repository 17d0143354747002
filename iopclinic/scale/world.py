"""The generated provider: its sites, staff, programs and tracks, and invented people.

Staff, programs, tracks and schedule blocks are few, so they are made through the ORM
(and the role groups of ``iopclinic.roles``); everything else is bulk-loaded.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from iopclinic import roles
from programs.models import Program, ScheduleBlock, Service, Track

# The marker of a generated dataset: ``--reuse`` recognises it by this superuser.
SUPERUSER = "scale-admin"
MANAGER = "scale-manager-1"

SITE_NAMES = [
    "Riverside", "Lakeview", "Northgate", "Eastfield", "Westbrook", "Southport",
    "Hillcrest", "Brookside", "Fairmont", "Oakridge", "Pinehurst", "Maplewood",
    "Cedar Falls", "Harborview", "Stonebridge", "Willowdale", "Ashton", "Clearwater",
    "Greenfield", "Highland", "Kingsley", "Meadowbrook", "Silverton", "Thornbury",
    "Valley Forge", "Windham", "Bayside", "Crestwood", "Elmhurst", "Foxborough",
]  # fmt: skip

FIRST_NAMES = [
    "Aaliyah", "Aaron", "Abigail", "Adrian", "Aiden", "Alejandro", "Alex", "Alice",
    "Amara", "Amir", "Ana", "Andre", "Angela", "Anthony", "Aria", "Ariel", "Asher",
    "Ava", "Avery", "Beatriz", "Benjamin", "Bianca", "Blake", "Brandon", "Brianna",
    "Caleb", "Camila", "Carlos", "Carmen", "Casey", "Chloe", "Chris", "Claire",
    "Dana", "Daniel", "Darius", "David", "Delia", "Devon", "Diego", "Dominic", "Eli",
    "Elena", "Elijah", "Ella", "Emily", "Emma", "Eric", "Esme", "Ethan", "Eva",
    "Fatima", "Felix", "Fiona", "Frankie", "Gabriel", "Grace", "Gray", "Hana",
    "Harper", "Hassan", "Hazel", "Henry", "Imani", "Indy", "Isaac", "Isabel",
    "Ivan", "Jada", "James", "Jamie", "Jasmine", "Jason", "Javier", "Jordan", "Jose",
    "Joy", "Jules", "Julia", "Kai", "Kayla", "Keisha", "Kenji", "Kevin", "Kiara",
    "Lane", "Laura", "Leah", "Leo", "Liam", "Lily", "Logan", "Lucas", "Lucia", "Luis",
    "Maya", "Mateo", "Micah", "Michael", "Mila", "Miriam", "Nadia", "Naomi", "Nathan",
    "Nia", "Noah", "Noor", "Olivia", "Omar", "Parker", "Paula", "Priya", "Quinn",
    "Rachel", "Rafael", "Raven", "Rosa", "Rowan", "Ruby", "Ryan", "Sage", "Samir",
    "Sara", "Sean", "Selena", "Sofia", "Sophie", "Tatum", "Teresa", "Theo", "Tyler",
    "Uma", "Valeria", "Victor", "Violet", "Wren", "Xavier", "Yara", "Yusuf", "Zara",
    "Zoe", "Zuri",
]  # fmt: skip
NAME_STARTS = [
    "Ab", "Ash", "Bel", "Black", "Bright", "Brook", "Cald", "Carr", "Castel", "Cold",
    "Crane", "Dal", "Del", "Dun", "East", "Elder", "Fair", "Fal", "Fen", "Gold",
    "Green", "Hal", "Hart", "Hazel", "Hol", "Iron", "Kest", "Kings", "Lark", "Lind",
    "Mar", "Mere", "Mill", "Moor", "North", "Oak", "Pem", "Pen", "Quill", "Raven",
    "Red", "Ridge", "Ros", "Sal", "Silver", "Stan", "Stone", "Thorn", "Under", "Vale",
    "Wal", "West", "White", "Wil", "Wind", "Wood", "Yar", "Ash", "Fox", "Har",
]  # fmt: skip
NAME_ENDS = [
    "bury", "by", "croft", "dale", "den", "field", "ford", "gate", "ham", "hart",
    "hill", "holt", "hurst", "ing", "land", "ley", "lock", "low", "man", "mont",
    "more", "ridge", "son", "ton", "well",
]  # fmt: skip
PAYERS = [
    "Blue Harbor Health", "Evergreen Medicaid", "Summit Care PPO", "Medicare",
    "Lakeshore Employee Plan", "self-pay",
]  # fmt: skip
LANGUAGES = ["English"] * 17 + ["Spanish", "Spanish", "Vietnamese"]
STREETS = ["Maple", "Oak", "Cedar", "Elm", "Harbor", "Mill", "Church", "Park", "Lake"]

# (kind, schedule, capacity, weekdays, first start, services in order), one hour each.
GROUP = Service.GROUP_THERAPY
PSYCHOED = Service.PSYCHOEDUCATION
ACTIVITY = Service.THERAPEUTIC_ACTIVITY
INDIVIDUAL = Service.INDIVIDUAL_THERAPY
TRACK_KINDS: list[tuple[str, str, int, list[int], datetime.time, list[str]]] = [
    ("iop", "day", 18, [0, 1, 3, 4], datetime.time(9), [GROUP, PSYCHOED, ACTIVITY]),
    ("iop", "evening", 16, [0, 1, 2, 3], datetime.time(17, 30),
     [GROUP, PSYCHOED, GROUP]),
    ("php", "day", 8, [0, 1, 2, 3, 4], datetime.time(9),
     [GROUP, PSYCHOED, GROUP, INDIVIDUAL, ACTIVITY, GROUP]),
]  # fmt: skip
CLIENTS_PER_SITE = 2500


@dataclass
class Block:
    id: int
    weekday: int
    start: datetime.time
    duration: int
    service: str
    facilitator_id: int


@dataclass
class TrackInfo:
    id: int
    site: int
    level: str
    schedule: str
    name: str
    capacity: int
    initial_plan_due_days: int
    plan_review_every_days: int
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Site:
    number: int
    name: str
    coordinators: list[int]
    therapists: list[int]
    psychiatrist: int
    tracks: dict[tuple[str, str], TrackInfo] = field(default_factory=dict)


@dataclass
class Person:
    """Someone who becomes a client; ``client_id`` is given in order of creation."""

    index: int
    site: int
    first_name: str
    last_name: str
    date_of_birth: datetime.date
    phone: str
    email: str
    preferred_name: str = ""
    pronouns: str = ""
    payer: str = ""
    member_id: str = ""
    language: str = "English"
    substance_use: bool = False
    client_id: int | None = None
    created_at: datetime.datetime | None = None


class Names:
    """Invented names, some far more common than others (as real surnames are)."""

    def __init__(self, rng: random.Random) -> None:
        last = sorted({start + end for start in NAME_STARTS for end in NAME_ENDS})
        rng.shuffle(last)
        self.last = last
        # Zipf-like weights: the commonest surname is about 1% of people.
        self.last_weights = [1 / (rank + 8) ** 0.9 for rank in range(len(last))]
        self.first = FIRST_NAMES
        self.rng = rng

    def last_name(self) -> str:
        return self.rng.choices(self.last, self.last_weights)[0]

    def first_name(self) -> str:
        return self.rng.choice(self.first)


def invent_person(
    rng: random.Random, names: Names, index: int, site: int, around: datetime.date
) -> Person:
    first, last = names.first_name(), names.last_name()
    age_days = rng.randint(18 * 365, 75 * 365)
    payer = rng.choice(PAYERS)
    return Person(
        index=index,
        site=site,
        first_name=first,
        last_name=last,
        date_of_birth=around - datetime.timedelta(days=age_days),
        phone=f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-"
        f"{rng.randint(0, 9999):04d}",
        email=f"{first}.{last}{index % 1000}@example.org".lower()
        if rng.random() < 0.6
        else "",
        preferred_name=rng.choice(names.first) if rng.random() < 0.08 else "",
        pronouns=rng.choice(["she/her", "he/him", "they/them"])
        if rng.random() < 0.3
        else "",
        payer=payer,
        member_id=""
        if payer == "self-pay"
        else f"{payer[:2].upper()}{rng.randint(10**7, 10**8 - 1)}",
        language=rng.choice(LANGUAGES),
        substance_use=rng.random() < 0.12,
    )


def create_staff(site_count: int) -> tuple[list[Site], dict[str, Any]]:
    """Per site two coordinators, four therapists and a psychiatrist; two program
    managers and a superuser for the clinic. No usable passwords: the benchmark
    signs in with ``force_login``."""
    roles.sync_roles()
    User = get_user_model()
    groups = {name: Group.objects.get(name=name) for name in roles.ROLES}

    def user(username: str, first: str, last: str, role: str | None = None) -> Any:
        person = User(
            username=username,
            first_name=first,
            last_name=last,
            is_staff=True,
            is_superuser=role is None,
        )
        person.set_unusable_password()
        person.save()
        if role is not None:
            person.groups.add(groups[role])
        return person

    sites = []
    for number in range(site_count):
        name = SITE_NAMES[number % len(SITE_NAMES)]
        if number >= len(SITE_NAMES):
            name = f"{name} {number // len(SITE_NAMES) + 1}"
        slug = f"s{number + 1}"
        coordinators = [
            user(f"scale-coord-{slug}-{k}", "Coordinator", f"{name} {k}",
                 roles.INTAKE_COORDINATOR).pk
            for k in (1, 2)
        ]  # fmt: skip
        therapists = [
            user(f"scale-therapist-{slug}-{k}", "Therapist", f"{name} {k}",
                 roles.THERAPIST).pk
            for k in (1, 2, 3, 4)
        ]  # fmt: skip
        psychiatrist = user(
            f"scale-psychiatrist-{slug}", "Psychiatrist", name, roles.PSYCHIATRIST
        ).pk
        sites.append(Site(number, name, coordinators, therapists, psychiatrist))
    managers = [
        user(f"scale-manager-{k}", "Program", f"Manager {k}", roles.PROGRAM_MANAGER)
        for k in (1, 2)
    ]
    admin = user(SUPERUSER, "Scale", "Admin")
    return sites, {"admin": admin, "managers": managers}


def create_catalog(sites: list[Site]) -> list[TrackInfo]:
    """An IOP (day and evening tracks) and a PHP (day track) at every site, with
    weekly schedule blocks led by the site's therapists."""
    tracks = []
    for site in sites:
        programs = {
            level: Program.objects.create(
                name=f"{site.name} {level.upper()}", level_of_care=level
            )
            for level in ("iop", "php")
        }
        for kind, (level, schedule, capacity, weekdays, first, services) in enumerate(
            TRACK_KINDS
        ):
            program = programs[level]
            track = Track.objects.create(
                program=program,
                schedule=schedule,
                name=f"{site.name} {level.upper()} {schedule}",
                capacity=capacity,
                location=f"{site.name} clinic, group room {kind + 1}",
            )
            info = TrackInfo(
                id=track.pk,
                site=site.number,
                level=level,
                schedule=schedule,
                name=track.name,
                capacity=capacity,
                initial_plan_due_days=program.initial_plan_due_days or 7,
                plan_review_every_days=program.plan_review_every_days or 30,
            )
            for weekday in weekdays:
                for hour, service in enumerate(services):
                    start = (
                        datetime.datetime.combine(datetime.date(2000, 1, 3), first)
                        + datetime.timedelta(hours=hour)
                    ).time()
                    facilitator = site.therapists[(weekday + hour) % 4]
                    block = ScheduleBlock.objects.create(
                        track=track,
                        weekday=weekday,
                        start=start,
                        duration_minutes=60,
                        service=service,
                        facilitator_id=facilitator,
                    )
                    info.blocks.append(
                        Block(block.pk, weekday, start, 60, service, facilitator)
                    )
            site.tracks[(level, schedule)] = info
            tracks.append(info)
    return tracks
