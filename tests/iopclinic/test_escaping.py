"""Stored text comes back escaped on every admin page that shows it.

A ``<script>`` saved straight into every free-text field of every admin model (through
the ORM, past any form validation) must come back as ``&lt;script&gt;`` in the HTML of
the change page, the list page, the history page and the print views. Checked in the
HTML itself: the content security policy would hide an escaping bug in a browser.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import DataError, IntegrityError, InternalError, models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.factories import TreatmentPlanFactory, with_content
from tests.iopclinic.admin_world import SUPERUSER, World

pytestmark = pytest.mark.django_db

PAYLOAD = "<script>alert(1)</script>"
RAW = "<script>alert(1)"
ESCAPED = "&lt;script&gt;alert(1)"

# Pages beyond the standard ones that show a model's row.
PRINT_VIEWS: dict[str, list[str]] = {
    "programs.treatmentplan": ["programs_treatmentplan_print"],
    "discharge.dischargeplan": [
        "discharge_dischargeplan_client_copy",
        "discharge_dischargeplan_finalise",
    ],
    "programs.groupsession": ["programs_groupsession_attendance"],
}


# Models whose free text no admin page of their own shows.
NOT_SHOWN = {
    # discharge_reason: shown on the discharge plan's pages.
    "programs.enrollment",
}


def text_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """Free-text columns: CharField and TextField without choices, long enough for
    the payload."""
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and not field.primary_key
        and (field.max_length or len(PAYLOAD)) >= len(PAYLOAD)
    ]


def companions(row: models.Model) -> dict[str, Any]:
    """Columns a text field needs beside it to satisfy the database's constraints."""
    if row._meta.label_lower == "programs.assessment":
        # An item 9 follow-up note: on a positive item 9, signed and dated.
        return {
            "safety_flag": True,
            "safety_followup_by": row.administered_by_id,  # type: ignore[attr-defined]
            "safety_followup_at": timezone.now(),
        }
    return {}


def store_payload(row: models.Model) -> list[str]:
    """The payload in each free-text field of ``row`` that accepts it (a database
    constraint may refuse one, e.g. a record number's format); the fields set."""
    written = []
    manager = type(row)._default_manager
    extra = companions(row)
    for field in text_fields(type(row)):
        try:
            with transaction.atomic():
                manager.filter(pk=row.pk).update(**{field.attname: PAYLOAD}, **extra)
        except (IntegrityError, DataError, InternalError):
            continue
        written.append(field.name)
    return written


def event_with_payload(row: models.Model) -> models.Model:
    """The audit trail refuses any UPDATE (append-only): a new event of its own
    carries the payload in every free-text column."""
    model = type(row)
    values = {field.attname: PAYLOAD for field in text_fields(model)}
    return model._default_manager.create(
        action="view", outcome="shown", occurred_at=timezone.now(), **values
    )


# Every admin model with a free-text field (appointments, assessments and seat
# offers have none: coded answers, dates and numbers).
MODELS = sorted(m._meta.label_lower for m in admin.site._registry if text_fields(m))


@pytest.mark.parametrize("label", MODELS)
def test_stored_script_is_escaped(world: World, label: str) -> None:
    """Every page showing the row escapes the payload, and one of them shows it."""
    row = world.rows[label]
    if label == "programs.treatmentplan":
        # The world's plan is signed, and PostgreSQL refuses any change to a signed
        # plan (programs migration 0008): a draft of its own carries the payload.
        row = with_content(TreatmentPlanFactory())
    if label == "iopclinic.accessevent":
        row = event_with_payload(row)
    else:
        assert store_payload(row), f"{label}: the database refused every text field"
    client = world.clients[SUPERUSER]
    app_label, model_name = label.split(".")
    pages = [
        reverse(f"admin:{app_label}_{model_name}_changelist"),
        reverse(f"admin:{app_label}_{model_name}_history", args=[row.pk]),
    ]
    change = reverse(f"admin:{app_label}_{model_name}_change", args=[row.pk])
    for name in PRINT_VIEWS.get(label, []):
        try:
            pages.append(reverse(f"admin:{name}", args=[row.pk]))
        except NoReverseMatch:  # pragma: no cover - a renamed page fails below
            pytest.fail(f"No admin URL {name}")
    seen = []
    for url in [change, *pages]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert RAW not in html, url
        seen.append(ESCAPED in html)
    assert any(seen) or label in NOT_SHOWN, f"{label}: the text is shown nowhere"


def test_referral_copy_escapes_the_organisation(world: World) -> None:
    """The referral copy prints the provider's name and address as text."""
    assert world.referral is not None
    type(world.referral).objects.filter(pk=world.referral.pk).update(
        organisation=PAYLOAD, address=PAYLOAD
    )
    plan = world.rows["discharge.dischargeplan"]
    url = reverse(
        "admin:discharge_dischargeplan_referral_copy",
        args=[plan.pk, world.referral.pk],
    )
    html = world.clients[SUPERUSER].get(url).content.decode()
    assert RAW not in html
    assert ESCAPED in html
