"""factory_boy factories: invented people only."""

import datetime
from typing import TYPE_CHECKING, Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from intake.models import Client, Consent, Inquiry, WaitlistEntry
from programs.instruments import INSTRUMENTS
from programs.models import (
    Assessment,
    EmergencyAccess,
    Enrollment,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    Program,
    SeatOffer,
    Track,
    TreatmentPlan,
)


class ClientFactory(factory.django.DjangoModelFactory[Client]):
    class Meta:
        model = Client

    first_name = factory.Sequence(lambda n: f"Firstname{n}")
    last_name = factory.Sequence(lambda n: f"Lastname{n}")
    date_of_birth = factory.Sequence(
        lambda n: datetime.date(1980, 1, 1) + datetime.timedelta(days=n)
    )
    phone = factory.Sequence(lambda n: f"555-{n % 10_000:04d}")

    if TYPE_CHECKING:
        # For the type checker only: calling the factory creates and returns a Client
        # (factory_boy's metaclass ``__call__`` is untyped, so mypy would otherwise take
        # ``ClientFactory()`` for an instance of the factory itself).
        def __new__(cls, **kwargs: Any) -> Client:  # type: ignore[misc]
            ...


class InquiryFactory(factory.django.DjangoModelFactory[Inquiry]):
    class Meta:
        model = Inquiry

    received_at = factory.LazyFunction(
        lambda: timezone.now() - datetime.timedelta(hours=1)
    )
    first_name = factory.Sequence(lambda n: f"Caller{n}")
    last_name = factory.Sequence(lambda n: f"Surname{n}")
    phone = factory.Sequence(lambda n: f"555-2{n % 1_000:03d}")
    date_of_birth = datetime.date(1990, 5, 1)
    requested_level = Inquiry.RequestedLevel.IOP

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> Inquiry:  # type: ignore[misc]
            ...


class ConsentFactory(factory.django.DjangoModelFactory[Consent]):
    class Meta:
        model = Consent

    client = factory.SubFactory(ClientFactory)
    recipient = "Riverside Primary Care"
    purpose = "Coordination of care"
    signed_on = factory.LazyFunction(
        lambda: timezone.localdate() - datetime.timedelta(days=10)
    )
    expires_on = factory.LazyFunction(
        lambda: timezone.localdate() + datetime.timedelta(days=365)
    )

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> Consent:  # type: ignore[misc]
            ...


class WaitlistEntryFactory(factory.django.DjangoModelFactory[WaitlistEntry]):
    class Meta:
        model = WaitlistEntry

    client = factory.SubFactory(ClientFactory)
    level_of_care = "iop"

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> WaitlistEntry:  # type: ignore[misc]
            ...


class ProgramFactory(factory.django.DjangoModelFactory[Program]):
    class Meta:
        model = Program
        django_get_or_create = ["name"]

    name = "Adult IOP"
    level_of_care = "iop"

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> Program:  # type: ignore[misc]
            ...


class TrackFactory(factory.django.DjangoModelFactory[Track]):
    class Meta:
        model = Track

    program = factory.SubFactory(ProgramFactory)
    schedule = "evening"
    name = factory.Sequence(lambda n: f"Evening track {n}")
    capacity = 10

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> Track:  # type: ignore[misc]
            ...


class EnrollmentFactory(factory.django.DjangoModelFactory[Enrollment]):
    """An active enrollment made directly (admission tests use admit_client)."""

    class Meta:
        model = Enrollment

    client = factory.SubFactory(ClientFactory)
    track = factory.SubFactory(TrackFactory)
    status = "active"
    admitted_on = factory.LazyFunction(
        lambda: timezone.localdate() - datetime.timedelta(days=7)
    )
    plan_due_on = factory.LazyAttribute(
        lambda enrollment: enrollment.admitted_on + datetime.timedelta(days=7)
    )

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> Enrollment:  # type: ignore[misc]
            ...


class SeatOfferFactory(factory.django.DjangoModelFactory[SeatOffer]):
    class Meta:
        model = SeatOffer

    waitlist_entry = factory.SubFactory(WaitlistEntryFactory, status="offered")
    track = factory.SubFactory(TrackFactory)
    expires_at = factory.LazyFunction(
        lambda: timezone.now() + datetime.timedelta(days=3)
    )

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> SeatOffer:  # type: ignore[misc]
            ...


class StaffFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"clinician{n}")
    first_name = "Robin"
    last_name = factory.Sequence(lambda n: f"Clinician{n}")
    is_staff = True

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> Any:  # type: ignore[misc]
            ...


class EmergencyAccessFactory(factory.django.DjangoModelFactory[EmergencyAccess]):
    """A grant in force now: 4 hours from now, with a reason."""

    class Meta:
        model = EmergencyAccess

    user = factory.SubFactory(StaffFactory)
    client = factory.SubFactory(ClientFactory)
    reason = "Crisis cover: the primary therapist is away and the client called."
    started_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(
        lambda grant: grant.started_at + datetime.timedelta(hours=4)
    )

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> EmergencyAccess:  # type: ignore[misc]
            ...


class TreatmentPlanFactory(factory.django.DjangoModelFactory[TreatmentPlan]):
    """A draft (version 1) with no content; ``with_content`` fills it."""

    class Meta:
        model = TreatmentPlan

    enrollment = factory.SubFactory(EnrollmentFactory)
    version = 1
    created_by = factory.SubFactory(StaffFactory)
    strengths = "Supportive sister; keeps a journal."
    client_hopes = "To get back to work and sleep through the night."
    discharge_criteria = "PHQ-9 below 10 for two weeks; a safety plan in place."

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> TreatmentPlan:  # type: ignore[misc]
            ...


def with_content(plan: TreatmentPlan, problems: int = 1) -> TreatmentPlan:
    """Each problem with one goal, one objective and one intervention: signable."""
    staff = plan.created_by
    for n in range(problems):
        problem = PlanProblem.objects.create(plan=plan, statement=f"Low mood {n}")
        goal = PlanGoal.objects.create(
            plan=plan, problem=problem, client_words=f"I want to feel like me {n}"
        )
        objective = PlanObjective.objects.create(
            plan=plan,
            goal=goal,
            statement=f"Attend 3 groups a week and PHQ-9 below 10 ({n})",
            target_date=timezone.localdate() + datetime.timedelta(days=30),
        )
        PlanIntervention.objects.create(
            plan=plan,
            objective=objective,
            service="group_therapy",
            frequency="3x/week",
            responsible=staff,
        )
    return plan


def answers_for(code: str, total: int, *, item9: int = 0) -> list[int]:
    """Item answers that add up to ``total``, with the safety item (PHQ-9 item 9) set
    to ``item9`` and the rest filled from the first item on."""
    instrument = INSTRUMENTS[code]
    answers = [0] * instrument.item_count
    safety = instrument.safety_item
    rest = total
    if safety:
        answers[safety - 1] = item9
        rest -= item9
    for index in range(instrument.item_count):
        if index + 1 == safety:
            continue
        answers[index] = min(3, rest)
        rest -= answers[index]
    if rest:
        raise ValueError(f"{code} cannot total {total} with item 9 = {item9}")
    return answers


class AssessmentFactory(factory.django.DjangoModelFactory[Assessment]):
    """A scored questionnaire; ``total`` (and ``item9``) choose the answers."""

    class Meta:
        model = Assessment
        exclude = ["total", "item9"]

    enrollment = factory.SubFactory(EnrollmentFactory)
    instrument = "phq9"
    administered_on = factory.LazyFunction(timezone.localdate)
    administered_by = factory.SubFactory(StaffFactory)
    total = 12
    item9 = 0
    answers = factory.LazyAttribute(
        lambda o: answers_for(o.instrument, o.total, item9=o.item9)
    )

    if TYPE_CHECKING:

        def __new__(cls, **kwargs: Any) -> Assessment:  # type: ignore[misc]
            ...
