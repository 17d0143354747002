"""Client records, their medical record numbers and their consents to share."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .common import phone_digits, phone_validator, validate_date_of_birth


class MedicalRecordNumberCounter(models.Model):
    """The last medical record number handed out; one row, locked while one is taken.

    A counter instead of the client's id keeps numbers dense and means a number is never
    reused, even if a client record were ever removed by a superuser.
    """

    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="mrn_counter_single_row"),
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
    def possible_duplicates(
        self,
        *,
        first_name: str,
        last_name: str,
        date_of_birth: datetime.date | None,
        phone: str,
    ) -> ClientQuerySet:
        """Clients matching on name and date of birth, or on phone number."""
        match = Q(pk__in=[])
        if first_name and last_name and date_of_birth:
            match |= Q(
                first_name__iexact=first_name.strip(),
                last_name__iexact=last_name.strip(),
                date_of_birth=date_of_birth,
            )
        digits = phone_digits(phone)
        if len(digits) >= 7:
            match |= Q(phone_digits=digits)
        return self.filter(match)


class Client(models.Model):
    """A person the clinic keeps a record for, created from an inquiry once screened."""

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "pk"

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
    date_of_birth = models.DateField(validators=[validate_date_of_birth])
    phone = models.CharField(max_length=32, blank=True, validators=[phone_validator])
    phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_relationship = models.CharField(
        max_length=100, blank=True, help_text="For example: mother, partner, friend."
    )
    emergency_contact_phone = models.CharField(
        max_length=32, blank=True, validators=[phone_validator]
    )
    payer = models.CharField(
        max_length=200, blank=True, help_text="Insurance plan or 'self-pay'."
    )
    member_id = models.CharField("member ID", max_length=100, blank=True)
    primary_language = models.CharField(max_length=60, default="English")
    substance_use_treatment = models.BooleanField(
        "receives substance-use treatment",
        default=False,
        help_text=(
            "Records of substance-use treatment are protected by 42 CFR Part 2: they "
            "are shared only under a consent that names them (DOMAIN.md section 7)."
        ),
    )
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
            models.Index(fields=["phone_digits"], name="client_phone_digits_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(mrn=""), name="client_mrn_present"),
            models.CheckConstraint(
                condition=~Q(first_name="") & ~Q(last_name=""),
                name="client_name_present",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not self.mrn:
            self.mrn = MedicalRecordNumberCounter.take_next()
        self.phone_digits = phone_digits(self.phone)
        if (
            kwargs.get("update_fields") is not None
            and "phone" in kwargs["update_fields"]
        ):
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_digits"}
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    def current_consents(self, on: datetime.date | None = None) -> ConsentQuerySet:
        """Consents in force on a day (today by default); other apps ask this."""
        return self.consents.current(on)


class ConsentQuerySet(models.QuerySet["Consent"]):
    def current(self, on: datetime.date | None = None) -> ConsentQuerySet:
        """Signed on or before the day, not expired and not revoked by then."""
        day = on or timezone.localdate()
        return self.filter(
            Q(signed_on__lte=day),
            Q(expires_on__isnull=True) | Q(expires_on__gte=day),
            Q(revoked_on__isnull=True) | Q(revoked_on__gt=day),
        )


class Consent(models.Model):
    """A release of information: the client allows the clinic to share with someone.

    42 CFR Part 2 (DOMAIN.md section 7) makes consents structured: who receives, for
    what purpose, what is shared, until when; substance-use information is named apart.
    A consent is never deleted: it is revoked.
    """

    # The lookup from this row to its client, for the access audit (iopclinic).
    audit_client_path = "client"

    class RecipientKind(models.TextChoices):
        PERSON = "person", "Person"
        ORGANISATION = "organisation", "Organisation"

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="consents"
    )
    recipient = models.CharField(
        max_length=200, help_text="The person or organisation who may receive it."
    )
    recipient_kind = models.CharField(
        max_length=20, choices=RecipientKind.choices, default=RecipientKind.ORGANISATION
    )
    purpose = models.CharField(
        max_length=300, help_text="For example: coordination of care with their GP."
    )
    shares_mental_health = models.BooleanField(
        "may share general mental-health information", default=True
    )
    shares_substance_use = models.BooleanField(
        "may share substance-use treatment information (42 CFR Part 2)",
        default=False,
    )
    signed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    expires_on_event = models.CharField(
        "or expires when",
        max_length=200,
        blank=True,
        help_text="An event instead of a date, e.g. 'at discharge from the program'.",
    )
    revoked_on = models.DateField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    history = HistoricalRecords()
    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=False) | ~Q(expires_on_event=""),
                name="consent_has_expiry",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(expires_on__gte=models.F("signed_on")),
                name="consent_expires_after_signing",
            ),
            models.CheckConstraint(
                condition=Q(shares_mental_health=True) | Q(shares_substance_use=True),
                name="consent_shares_something",
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_by__isnull=False),
                name="consent_revocation_names_who",
            ),
        ]

    def __str__(self) -> str:
        return f"Release to {self.recipient} (signed {self.signed_on:%Y-%m-%d})"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.expires_on is None and not self.expires_on_event:
            errors["expires_on"] = "Give an expiry date or the event that ends it."
        if self.expires_on and self.signed_on and self.expires_on < self.signed_on:
            errors["expires_on"] = "The consent cannot expire before it was signed."
        if self.signed_on and self.signed_on > timezone.localdate():
            errors["signed_on"] = "The signing date is in the future."
        if not (self.shares_mental_health or self.shares_substance_use):
            errors["shares_mental_health"] = "Tick what the client allows to be shared."
        if errors:
            raise ValidationError(errors)

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        return (
            self.signed_on <= today
            and (self.expires_on is None or self.expires_on >= today)
            and (self.revoked_on is None or self.revoked_on > today)
        )

    def revoke(self, *, by: models.Model, on: datetime.date | None = None) -> None:
        """Record that the client withdrew this consent; it stays on file."""
        if self.revoked_on is not None:
            return
        self.revoked_on = on or timezone.localdate()
        self.revoked_by = by  # type: ignore[assignment]
        self.save(update_fields=["revoked_on", "revoked_by"])
