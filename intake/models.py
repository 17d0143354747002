"""Who asks for care: client records (inquiries and the waitlist come with the intake
issue)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

OLDEST_PLAUSIBLE_AGE_YEARS = 120

phone_validator = RegexValidator(
    regex=r"^\+?[\d\s().-]{7,20}$",
    message=(
        "Enter a phone number: digits, with spaces, dashes, dots or brackets "
        "if you like."
    ),
)


class MedicalRecordNumberCounter(models.Model):
    """The last medical record number handed out; one row, locked while a number is
    taken.

    A counter instead of the client's id keeps numbers dense and means a number is never
    reused, even if a client record were ever removed by a superuser.
    """

    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1), name="mrn_counter_single_row"
            ),
        ]

    def __str__(self) -> str:
        return f"last medical record number: {self.last_number}"

    @classmethod
    @transaction.atomic
    def take_next(cls) -> str:
        """Reserve the next medical record number (row lock: concurrent takers wait)."""
        counter, _ = cls.objects.select_for_update().get_or_create(pk=1)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        return f"{counter.last_number:08d}"


class ClientQuerySet(models.QuerySet["Client"]):
    def search_order(self) -> ClientQuerySet:
        return self.order_by("last_name", "first_name", "id")


class Client(models.Model):
    """A person the clinic keeps a record for."""

    mrn = models.CharField(
        "medical record number",
        max_length=16,
        unique=True,
        editable=False,
        help_text="Given by the system when the record is created; never reused.",
    )
    first_name = models.CharField("legal first name", max_length=100)
    last_name = models.CharField("legal last name", max_length=100)
    preferred_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="The name staff should use when talking to them.",
    )
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=32, blank=True, validators=[phone_validator])
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(
                fields=["last_name", "first_name", "id"], name="client_name_idx"
            ),
            models.Index(fields=["date_of_birth"], name="client_dob_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(mrn=""), name="client_mrn_present"
            ),
            models.CheckConstraint(
                condition=~models.Q(first_name="") & ~models.Q(last_name=""),
                name="client_name_present",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not self.mrn:
            self.mrn = MedicalRecordNumberCounter.take_next()
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    def clean(self) -> None:
        super().clean()
        # Today in the clinic's time zone, not the server's (USE_TZ, CLINIC_TIME_ZONE).
        today = timezone.localdate()
        if self.date_of_birth:
            if self.date_of_birth > today:
                raise ValidationError(
                    {"date_of_birth": "The date of birth is in the future."}
                )
            oldest = today.replace(year=today.year - OLDEST_PLAUSIBLE_AGE_YEARS)
            if self.date_of_birth < oldest:
                raise ValidationError(
                    {
                        "date_of_birth": (
                            "That would make them over 120 years old; check the year."
                        )
                    }
                )
