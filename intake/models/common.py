"""Vocabularies and checks shared by the intake models (DOMAIN.md section 2)."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

OLDEST_PLAUSIBLE_AGE_YEARS = 120

phone_validator = RegexValidator(
    regex=r"^\+?[\d\s().-]{7,20}$",
    message=(
        "Enter a phone number: digits, with spaces, dashes, dots or brackets "
        "if you like."
    ),
)


def validate_date_of_birth(value: datetime.date) -> None:
    """Refuse a birth date in the future or more than 120 years ago."""
    # Today in the clinic's time zone, not the server's (CLINIC_TIME_ZONE).
    today = timezone.localdate()
    if value > today:
        raise ValidationError("The date of birth is in the future.")
    if value < today.replace(year=today.year - OLDEST_PLAUSIBLE_AGE_YEARS):
        raise ValidationError(
            "That would make them over 120 years old; check the year."
        )


def phone_digits(phone: str) -> str:
    """The digits of a phone number: '(555) 010-0142' matches '555.010.0142'."""
    digits = re.sub(r"\D", "", phone or "")
    # A leading US country code does not make it another number.
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


class LevelOfCare(models.TextChoices):
    """DOMAIN.md section 1."""

    IOP = "iop", "IOP (intensive outpatient)"
    PHP = "php", "PHP (partial hospitalization)"


class Schedule(models.TextChoices):
    DAY = "day", "Day track"
    EVENING = "evening", "Evening track"
    EITHER = "either", "Either"
