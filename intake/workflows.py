"""Intake steps that touch more than one record, each in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Client, Inquiry, LevelOfCare, WaitlistEntry


@transaction.atomic
def create_client_from_inquiry(*, inquiry: Inquiry, by: Any) -> Client:
    """Create the client record from what the inquiry holds (nothing retyped)."""
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.client_id is not None:
        raise ValidationError("This inquiry already has a client record.")
    if not inquiry.last_name or inquiry.date_of_birth is None:
        raise ValidationError(
            "A client record needs the legal last name and date of birth: add them to "
            "the inquiry first."
        )
    client = Client(
        first_name=inquiry.first_name,
        last_name=inquiry.last_name,
        date_of_birth=inquiry.date_of_birth,
        phone=inquiry.phone,
        email=inquiry.email,
        payer=inquiry.payer,
        member_id=inquiry.member_id,
    )
    # The number is taken on save, so a refused record does not use one up.
    client.full_clean(exclude=["mrn"])
    client.save()
    _link(inquiry, client, by=by, note=f"Client record {client.mrn} created.")
    return client


@transaction.atomic
def link_client(*, inquiry: Inquiry, client: Client, by: Any) -> None:
    """Link the inquiry to an existing client (a returning client or a duplicate)."""
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.client_id is not None:
        raise ValidationError("This inquiry already has a client record.")
    _link(inquiry, client, by=by, note=f"Linked to existing client {client.mrn}.")


def _link(inquiry: Inquiry, client: Client, *, by: Any, note: str) -> None:
    inquiry.client = client
    inquiry.save(update_fields=["client"])
    inquiry.status_changes.create(
        from_status=inquiry.status, to_status=inquiry.status, changed_by=by, note=note
    )


@transaction.atomic
def add_to_waitlist(
    *,
    inquiry: Inquiry,
    by: Any,
    priority: int = WaitlistEntry.Priority.ROUTINE,
    level_of_care: str | None = None,
) -> WaitlistEntry:
    """Put the inquiry's client on the waitlist and move the inquiry to waitlisted."""
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    level = level_of_care or inquiry.requested_level
    if level not in LevelOfCare.values:
        raise ValidationError("Choose IOP or PHP as the level of care asked for first.")
    problem = inquiry.move_problem(Inquiry.Status.WAITLISTED)
    if problem:
        raise ValidationError(problem)
    assert inquiry.client is not None  # move_problem refuses a move without a client
    entry = WaitlistEntry(
        client=inquiry.client,
        inquiry=inquiry,
        level_of_care=level,
        preferred_schedule=inquiry.requested_schedule,
        priority=priority,
        added_by=by,
    )
    entry.full_clean()
    entry.save()
    inquiry.move_to(Inquiry.Status.WAITLISTED, by=by, note="Added to the waitlist.")
    return entry
