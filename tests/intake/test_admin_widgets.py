"""The staff selects write their options in Python, and write the same HTML as
Django's template-rendered selects."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms

from intake.admin.widgets import StaffSelect, StaffSelectMultiple

CHOICES = [("", "---------"), (1, 'Dana "D" <Cho> & co'), (2, "Eli"), (3, "Noor")]


def normalised(html: str) -> str:
    """Django's templates add line breaks between tags; they mean nothing."""
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize(
    ("stock", "plain", "value"),
    [
        (forms.Select, StaffSelect, 2),
        (forms.Select, StaffSelect, None),
        (forms.SelectMultiple, StaffSelectMultiple, [1, 3]),
        (forms.SelectMultiple, StaffSelectMultiple, []),
    ],
)
def test_same_html_as_django(stock: type, plain: type, value: object) -> None:
    attrs = {"id": "id_staff", "required": True, "data-context": "x"}
    expected = stock(choices=CHOICES, attrs=attrs).render("staff", value)
    assert normalised(plain(choices=CHOICES, attrs=attrs).render("staff", value)) == (
        normalised(expected)
    )


def test_groups_and_escaping() -> None:
    grouped = [("Day <track>", [(1, "A & B")]), ("Evening", [(2, "C")])]
    html = StaffSelect(choices=grouped).render("staff", 1)
    assert normalised(html) == normalised(
        forms.Select(choices=grouped).render("staff", 1)
    )
    assert "&lt;track&gt;" in html and "A &amp; B" in html


def test_a_single_select_marks_only_the_first_match() -> None:
    twice = [(1, "Ann"), ("1", "Ann again"), (2, "Eli")]
    html = StaffSelect(choices=twice).render("staff", 1)
    assert normalised(html) == normalised(
        forms.Select(choices=twice).render("staff", 1)
    )
    assert html.count(" selected") == 1


@pytest.mark.django_db
def test_a_model_choice_field_of_staff(django_user_model: Any) -> None:
    """As the admin uses it: a queryset of users, the current one selected."""
    dana = django_user_model.objects.create_user("dana", is_staff=True)
    django_user_model.objects.create_user("eli<b>", is_staff=True)
    staff = django_user_model.objects.order_by("username")
    ours = forms.ModelChoiceField(staff, widget=StaffSelect).widget.render(
        "staff", dana.pk
    )
    stock = forms.ModelChoiceField(staff).widget.render("staff", dana.pk)
    assert normalised(ours) == normalised(stock)
    assert "eli&lt;b&gt;" in ours
