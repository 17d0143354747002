"""Search helpers shared by the intake admins."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet

from ..models import phone_digits


def with_phone_matches(
    queryset: QuerySet[Any], results: QuerySet[Any], search_term: str
) -> QuerySet[Any]:
    """Add rows whose phone has the same digits as the search, however it was typed.

    "(555) 301-4477", "555.301.4477" and "5553014477" all find the same person; the
    indexed ``phone_digits`` column makes it an exact, fast match.
    """
    digits = phone_digits(search_term)
    if len(digits) >= 7 and not re.search(r"[^\d\s().+-]", search_term):
        return results | queryset.filter(phone_digits=digits)
    return results
