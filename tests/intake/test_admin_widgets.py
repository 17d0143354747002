"""The staff selects write their options in Python, and write the same HTML as
Django's template-rendered selects."""

from __future__ import annotations

import re

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
