"""Intake at scale: clients, inquiries with their safety screens and timelines, the
waitlist and consents, each row as the intake workflows would have left it.

Every inquiry walks the state machine of ``Inquiry.TRANSITIONS`` one step at a time,
and its timeline has a row per step; the risk level is the model's own
``assess_risk()`` of the answers; a high-risk caller has the crisis response recorded
before moving on, and a clinician's override before waiting for a seat.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model

from intake.models import (
    Client,
    Consent,
    Inquiry,
    InquiryStatusChange,
    MedicalRecordNumberCounter,
    PresentingConcern,
    WaitlistEntry,
    phone_digits,
)
from iopclinic.demo import REFERRED_TO

from .loading import copy_rows
from .simulation import Request, World, local
from .world import STREETS, Person

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)

# Safety screen answers per risk template (DOMAIN.md section 2); questions 3-5 are
# asked only after a yes to 2, and 6a only after a yes to 6.
SCREENS: dict[str, dict[str, bool | None]] = {
    "none": {"cssrs_wish_dead": False, "cssrs_suicidal_thoughts": False,
             "cssrs_behaviour": False},
    "low": {"cssrs_wish_dead": True, "cssrs_suicidal_thoughts": False,
            "cssrs_behaviour": False},
    "moderate": {"cssrs_wish_dead": True, "cssrs_suicidal_thoughts": True,
                 "cssrs_method": True, "cssrs_intent": False, "cssrs_plan": False,
                 "cssrs_behaviour": True, "cssrs_behaviour_past_3_months": False},
    "high": {"cssrs_wish_dead": True, "cssrs_suicidal_thoughts": True,
             "cssrs_method": True, "cssrs_intent": True, "cssrs_plan": False,
             "cssrs_behaviour": False},
}  # fmt: skip
CONCERN_DETAILS = [
    "Low mood for months; stopped going to work.",
    "Panic attacks on the way to work; avoiding the bus.",
    "Drinking more since the divorce; wants to stop before it gets worse.",
    "Can't sleep since my mother died; crying every day.",
    "Outpatient therapy once a week isn't enough any more.",
    "Discharged from the hospital last week; was told to find an IOP.",
    "Worrying all the time, can't concentrate at school.",
    "",
]
CLOSED_REASONS = {
    "unreachable": 35, "declined": 20, "referred_elsewhere": 25, "duplicate": 5,
    "withdrawn": 15,
}  # fmt: skip
# Why a waiting person left the list, and how their inquiry closed.
LEFT_THE_LIST = {
    "no_longer_wants_care": "withdrawn",
    "unreachable": "unreachable",
    "placed_elsewhere": "referred_elsewhere",
    "other": "declined",
}
PIPELINE = ["new", "contacted", "screening", "eligible"]
# Callers of the last three weeks may still be worked; at least this many are.
RECENT_DAYS = 21
OPEN_AT_LEAST = 40

INQUIRY_FIELDS = [
    "id", "received_at", "received_by", "channel", "caller", "caller_name",
    "caller_phone", "first_name", "last_name", "phone", "phone_digits", "email",
    "preferred_contact", "date_of_birth", "heard_about_us", "concerns_detail",
    "requested_level", "requested_schedule", "payer", "member_id", "notes",
    "next_follow_up", "assigned_coordinator", "client", "status", "closed_reason",
    "referred_to", *Inquiry.SCREEN_QUESTIONS, "risk_level", "screened_at",
    "screened_by", "crisis_response", "crisis_response_note", "crisis_response_at",
    "crisis_response_by", "risk_override_note", "risk_override_by",
    "risk_override_at",
]  # fmt: skip

CLIENT_COLUMNS = [
    "id", "mrn", "first_name", "last_name", "preferred_name", "pronouns",
    "date_of_birth", "phone", "phone_digits", "email", "address",
    "emergency_contact_name", "emergency_contact_relationship",
    "emergency_contact_phone", "payer", "member_id", "primary_language",
    "substance_use_treatment", "created_at", "updated_at",
]  # fmt: skip
TIMELINE_COLUMNS = [
    "id", "inquiry", "from_status", "to_status", "changed_at", "changed_by", "note",
]  # fmt: skip
WAITLIST_COLUMNS = [
    "id", "client", "inquiry", "level_of_care", "preferred_schedule", "priority",
    "added_on", "added_by", "status", "removed_reason", "removed_note", "removed_on",
    "removed_by",
]  # fmt: skip
CONSENT_COLUMNS = [
    "id", "client", "recipient", "recipient_kind", "purpose", "shares_mental_health",
    "shares_substance_use", "signed_on", "expires_on", "expires_on_event",
    "revoked_on", "revoked_by",
]  # fmt: skip


@dataclass
class InquiryRow:
    """One inquiry's columns and its timeline, before ids are given in date order."""

    values: dict[str, Any]
    steps: list[tuple[str, str, datetime.datetime, int | None, str]]
    concerns: list[int]
    request: Request | None = None


@dataclass
class IntakeRows:
    inquiries: list[InquiryRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def risk_levels() -> dict[str, int | None]:
    """Each template's level, as the model computes it from the answers."""
    levels: dict[str, int | None] = {}
    for name, answers in SCREENS.items():
        inquiry = Inquiry(**answers)
        levels[name] = inquiry.assess_risk()
    return levels


class InquiryMaker:
    def __init__(self, rng: random.Random, world: World, tz: datetime.tzinfo) -> None:
        self.rng = rng
        self.world = world
        self.tz = tz
        self.levels = risk_levels()
        self.concerns = list(PresentingConcern.objects.values_list("pk", flat=True))

    def base(
        self,
        *,
        site: int,
        received_at: datetime.datetime,
        first_name: str,
        last_name: str,
        phone: str,
        email: str,
        date_of_birth: datetime.date | None,
        level: str,
        schedule: str,
        payer: str,
        member_id: str,
    ) -> dict[str, Any]:
        rng = self.rng
        coordinator = rng.choice(self.world.sites[site].coordinators)
        caller = rng.choices(list(Inquiry.Caller.values), [70, 15, 5, 8, 2])[0]
        return {
            "received_at": received_at,
            "received_by": coordinator,
            "channel": rng.choices(list(Inquiry.Channel.values), [60, 10, 20, 8, 2])[0],
            "caller": caller,
            "caller_name": ""
            if caller == "self"
            else f"{rng.choice(self.world.people).first_name} (caller)",
            "caller_phone": "",
            "first_name": first_name,
            "last_name": last_name,
            "phone": phone,
            "phone_digits": phone_digits(phone),
            "email": email,
            "preferred_contact": rng.choices(["phone", "text", "email"], [70, 20, 10])[
                0
            ]
            if email
            else "phone",
            "date_of_birth": date_of_birth,
            "heard_about_us": rng.choice(["", "", *Inquiry.Source.values]),
            "concerns_detail": rng.choice(CONCERN_DETAILS),
            "requested_level": level,
            "requested_schedule": schedule,
            "payer": payer,
            "member_id": member_id,
            "notes": "",
            "next_follow_up": None,
            "assigned_coordinator": coordinator if rng.random() < 0.7 else None,
            "client": None,
            "status": "new",
            "closed_reason": "",
            "referred_to": "",
            **dict.fromkeys(Inquiry.SCREEN_QUESTIONS),
            "risk_level": None,
            "screened_at": None,
            "screened_by": None,
            "crisis_response": "",
            "crisis_response_note": "",
            "crisis_response_at": None,
            "crisis_response_by": None,
            "risk_override_note": "",
            "risk_override_by": None,
            "risk_override_at": None,
        }

    def screen(
        self,
        values: dict[str, Any],
        risk: str,
        at: datetime.datetime,
        *,
        site: int,
        crisis_recorded: bool = True,
    ) -> None:
        values.update(SCREENS[risk])
        values["risk_level"] = self.levels[risk]
        values["screened_at"] = at
        values["screened_by"] = values["received_by"]
        if risk == "high" and crisis_recorded:
            values["crisis_response"] = self.rng.choice(
                ["handoff_988", "sent_to_ed", "called_911", "safety_plan"]
            )
            values["crisis_response_at"] = at + datetime.timedelta(minutes=20)
            values["crisis_response_by"] = values["received_by"]

    def override(
        self, values: dict[str, Any], at: datetime.datetime, site: int
    ) -> None:
        """A clinician's note that this high-risk person may wait for a seat."""
        values["risk_override_note"] = (
            "Seen by the crisis team; safety plan in place. May wait for a seat."
        )
        values["risk_override_by"] = self.world.sites[site].psychiatrist
        values["risk_override_at"] = at

    def for_request(self, request: Request) -> InquiryRow:
        """The inquiry of a request for care, walked as far as its outcome."""
        rng, person = self.rng, request.person
        assert request.received_at is not None
        t0 = request.received_at
        values = self.base(
            site=person.site,
            received_at=t0,
            first_name=person.first_name,
            last_name=person.last_name,
            phone=person.phone,
            email=person.email,
            date_of_birth=person.date_of_birth,
            level=request.level,
            schedule=request.schedule,
            payer=person.payer,
            member_id=person.member_id,
        )
        coordinator = values["received_by"]
        steps: list[tuple[str, str, datetime.datetime, int | None, str]] = [
            ("", "new", t0, coordinator, "")
        ]
        at = t0

        def move(to: str, after_hours: tuple[float, float], note: str = "") -> None:
            nonlocal at
            at = at + rng.uniform(*after_hours) * HOUR
            steps.append((steps[-1][1], to, at, coordinator, note))
            values["status"] = to

        move("contacted", (1, 20))
        move("screening", (1, 12))
        self.screen(values, request.risk, at + HOUR, site=person.site)
        move("eligible", (2, 24))
        if person.client_id is None:
            # The first request makes the client record; a returning person's is
            # linked to it.
            person.created_at = at
            person.client_id = -1  # numbered once every client is known
        values["client"] = person
        if request.risk == "high":
            self.override(values, at + HOUR / 2, person.site)
        if request.via_waitlist:
            move("waitlisted", (1, 12))
            request.added_on = timezone_date(at, self.tz)
            request.waitlisted_at = at
        else:
            move("scheduled", (1, 12))
        if request.outcome == "admitted":
            episode = request.episode
            assert episode is not None
            episode.booked_at = max(episode.booked_at, at + HOUR)
            at = episode.booked_at - datetime.timedelta(minutes=1)
            move("admitted", (0, 0), f"Admitted to {episode.track.name}.")
        elif request.outcome == "dropped":
            assert request.added_on is not None
            left = request.added_on + rng.randint(5, 60) * DAY
            if left <= self.world.today:
                reason = rng.choice(list(LEFT_THE_LIST))
                request.removed = (reason, left)
                values["closed_reason"] = LEFT_THE_LIST[reason]
                if reason == "placed_elsewhere":
                    values["referred_to"] = "Another program nearer home"
                at = max(at + HOUR, local(left, 10, self.tz))
                move("closed", (0, 0), "Left the waitlist.")
        return InquiryRow(values, steps, self.pick_concerns(), request)

    def pick_concerns(self) -> list[int]:
        return self.rng.sample(self.concerns, self.rng.randint(1, 3))

    def without_client(self, recent_share: float) -> InquiryRow:
        """Someone who called but never became a client: closed at some step, or a
        recent caller still being worked (``recent_share`` of them called in the
        last three weeks)."""
        rng, world = self.rng, self.world
        site = rng.randrange(len(world.sites))
        if rng.random() < recent_share:
            day = world.today - rng.randint(0, RECENT_DAYS) * DAY
        else:
            day = world.start + rng.randint(0, (world.today - world.start).days) * DAY
        t0 = min(local(day, rng.uniform(8, 19), self.tz), world.now - HOUR)
        age = (world.today - day).days
        person_like = rng.choice(world.people)
        values = self.base(
            site=site,
            received_at=t0,
            first_name=rng.choice(world.people).first_name,
            last_name=person_like.last_name,
            phone=f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-"
            f"{rng.randint(0, 9999):04d}",
            email="",
            date_of_birth=person_like.date_of_birth if rng.random() < 0.85 else None,
            level=rng.choices(["iop", "php", "not_sure"], [60, 20, 20])[0],
            schedule=rng.choices(["day", "evening", "either"], [55, 15, 30])[0],
            payer=rng.choice(["", person_like.payer]),
            member_id="",
        )
        coordinator = values["received_by"]
        is_open = age <= RECENT_DAYS and rng.random() < 0.7
        weights = [30, 30, 20, 20] if is_open else [25, 30, 25, 20]
        stage = rng.choices(PIPELINE, weights)[0]
        if is_open:
            # A step takes about a day: a caller of this morning is still new.
            stage = PIPELINE[min(PIPELINE.index(stage), age)]
        risk = rng.choices(["none", "low", "moderate", "high"], [64, 18, 11, 7])[0]
        steps: list[tuple[str, str, datetime.datetime, int | None, str]] = [
            ("", "new", t0, coordinator, "")
        ]
        at = t0
        for to in PIPELINE[1 : PIPELINE.index(stage) + 1]:
            at = min(at + rng.uniform(1, 20) * HOUR, world.now - HOUR)
            steps.append((steps[-1][1], to, at, coordinator, ""))
            values["status"] = to
            if to == "screening":
                # An open high-risk screen may still wait for the crisis response.
                recorded = not is_open or stage != "screening" or rng.random() < 0.5
                self.screen(values, risk, at, site=site, crisis_recorded=recorded)
        if is_open:
            values["next_follow_up"] = world.today + rng.randint(-5, 7) * DAY
            values["assigned_coordinator"] = coordinator
        else:
            reason = rng.choices(list(CLOSED_REASONS), list(CLOSED_REASONS.values()))[0]
            if values["risk_level"] == self.levels["high"]:
                reason = "referred_elsewhere"
            values["closed_reason"] = reason
            if reason == "referred_elsewhere":
                values["referred_to"] = rng.choice(REFERRED_TO)
            at = min(at + rng.uniform(2, 24 * 14) * HOUR, world.now - HOUR)
            steps.append((steps[-1][1], "closed", at, coordinator, ""))
            values["status"] = "closed"
        return InquiryRow(values, steps, self.pick_concerns())


def timezone_date(at: datetime.datetime, tz: datetime.tzinfo) -> datetime.date:
    return at.astimezone(tz).date()


def build_inquiries(
    rng: random.Random, world: World, tz: datetime.tzinfo
) -> IntakeRows:
    """Every inquiry, numbered in the order received; clients numbered (and given
    their medical record numbers) in the order their records were created."""
    maker = InquiryMaker(rng, world, tz)
    rows = IntakeRows()
    # Requests in the order they happened, so a returning person's first request
    # makes the client record.
    asked = sorted(
        (r for r in world.requests if r.received_at is not None),
        key=lambda r: r.received_at,  # type: ignore[arg-type, return-value]
    )
    for request in asked:
        rows.inquiries.append(maker.for_request(request))
    # As many as there are clients, spread over the ten years; a small dataset still
    # gets a worklist of a few dozen open callers.
    count = len(world.people)
    recent_share = max(0.0, (OPEN_AT_LEAST - count * RECENT_DAYS / 3652) / count)
    for _ in range(count):
        rows.inquiries.append(maker.without_client(recent_share))
    rows.inquiries.sort(key=lambda row: row.values["received_at"])
    for inquiry_id, row in enumerate(rows.inquiries, start=1):
        row.values["id"] = inquiry_id
        if row.request is not None:
            row.request.inquiry_id = inquiry_id
    people = sorted(world.people, key=lambda p: p.created_at)  # type: ignore[arg-type, return-value]
    for client_id, person in enumerate(people, start=1):
        person.client_id = client_id
    return rows


def write_clients(world: World) -> int:
    def rows() -> Any:
        rng = random.Random(7)
        for person in sorted(world.people, key=lambda p: p.client_id or 0):
            has_contact = rng.random() < 0.7
            yield (
                person.client_id,
                f"{person.client_id:08d}",
                person.first_name,
                person.last_name,
                person.preferred_name,
                person.pronouns,
                person.date_of_birth,
                person.phone,
                phone_digits(person.phone),
                person.email,
                f"{rng.randint(1, 999)} {rng.choice(STREETS)} Street, "
                f"{world.sites[person.site].name}",
                f"{rng.choice(world.people).first_name} {person.last_name}"
                if has_contact
                else "",
                rng.choice(["mother", "partner", "sister", "friend"])
                if has_contact
                else "",
                f"({rng.randint(201, 989)}) 555-{rng.randint(0, 9999):04d}"
                if has_contact
                else "",
                person.payer,
                person.member_id,
                person.language,
                person.substance_use,
                person.created_at,
                person.created_at,
            )

    count = copy_rows(Client, CLIENT_COLUMNS, rows())
    MedicalRecordNumberCounter.objects.update_or_create(
        pk=1, defaults={"last_number": count}
    )
    return count


def write_inquiries(rows: IntakeRows) -> dict[str, int]:
    def inquiry_rows() -> Any:
        for row in rows.inquiries:
            values = row.values
            client = values["client"]
            values["client"] = client.client_id if isinstance(client, Person) else None
            yield tuple(values[name] for name in INQUIRY_FIELDS)

    def timeline_rows() -> Any:
        step_id = 0
        for row in rows.inquiries:
            for from_status, to_status, at, by, note in row.steps:
                step_id += 1
                yield (step_id, row.values["id"], from_status, to_status, at, by, note)

    def concern_rows() -> Any:
        link_id = 0
        for row in rows.inquiries:
            for concern in row.concerns:
                link_id += 1
                yield (link_id, row.values["id"], concern)

    counts = {
        "inquiries": copy_rows(Inquiry, INQUIRY_FIELDS, inquiry_rows()),
        "inquiry timeline steps": copy_rows(
            InquiryStatusChange, TIMELINE_COLUMNS, timeline_rows()
        ),
    }
    through: type[Model] = Inquiry.concerns.through
    counts["inquiry concerns"] = copy_rows(
        through, ["id", "inquiry", "presentingconcern"], concern_rows()
    )
    return counts


def write_waitlist(rng: random.Random, world: World) -> int:
    """An entry for each request that went through the waitlist: admitted, still
    waiting, or removed with the reason they left."""
    entries = sorted(
        (r for r in world.requests if r.via_waitlist and r.received_at is not None),
        key=lambda r: (r.waitlisted_at, r.inquiry_id),
    )

    def rows() -> Any:
        for entry_id, request in enumerate(entries, start=1):
            request.waitlist_entry_id = entry_id
            person = request.person
            coordinator = world.sites[person.site].coordinators[0]
            removed = request.removed
            status = (
                "admitted"
                if request.outcome == "admitted"
                else ("removed" if removed else "waiting")
            )
            urgent = request.risk == "high" or rng.random() < 0.2
            yield (
                entry_id,
                person.client_id,
                request.inquiry_id,
                request.level,
                request.schedule,
                1 if urgent else 2,
                request.added_on,
                coordinator,
                status,
                removed[0] if removed else "",
                "Told the coordinator by phone." if removed else "",
                removed[1] if removed else None,
                coordinator if removed else None,
            )

    return copy_rows(WaitlistEntry, WAITLIST_COLUMNS, rows())


def write_consents(rng: random.Random, world: World) -> int:
    """Releases of information for about a third of clients, signed when their
    record was made: most to their primary care, some now expired or revoked."""

    def rows() -> Any:
        consent_id = 0
        for person in sorted(world.people, key=lambda p: p.client_id or 0):
            if rng.random() >= 0.35:
                continue
            consent_id += 1
            assert person.created_at is not None
            signed = timezone_date(person.created_at, world.tz) + DAY
            signed = min(signed, world.today)
            by_date = rng.random() < 0.7
            expires = signed + 365 * DAY if by_date else None
            revoked = None
            if rng.random() < 0.05:
                end = min(expires or world.today, world.today)
                revoked = signed + rng.randint(0, max(0, (end - signed).days)) * DAY
            yield (
                consent_id,
                person.client_id,
                f"Dr. {rng.choice(world.people).last_name}, primary care",
                "organisation",
                "Coordination of care with their primary care clinic",
                True,
                person.substance_use and rng.random() < 0.5,
                signed,
                expires,
                "" if by_date else "At discharge from the program",
                revoked,
                world.sites[person.site].coordinators[0] if revoked else None,
            )

    return copy_rows(Consent, CONSENT_COLUMNS, rows())
