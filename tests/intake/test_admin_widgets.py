"""The staff selects write their options in Python, and write the same HTML as
Django's template-rendered selects."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test import RequestFactory
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from intake.admin.widgets import (
    StaffChoiceField,
    StaffMultipleChoiceField,
    StaffSelect,
    StaffSelectMultiple,
    escaped,
    staff_select,
)

# The site's renderer writes selects in Python too (iopclinic/forms.py): Django's own
# templates are the reference.
TEMPLATES = DjangoTemplates()

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
    expected = stock(choices=CHOICES, attrs=attrs).render(
        "staff", value, renderer=TEMPLATES
    )
    assert normalised(plain(choices=CHOICES, attrs=attrs).render("staff", value)) == (
        normalised(expected)
    )


def test_groups_and_escaping() -> None:
    grouped = [("Day <track>", [(1, "A & B")]), ("Evening", [(2, "C")])]
    html = StaffSelect(choices=grouped).render("staff", 1)
    assert normalised(html) == normalised(
        forms.Select(choices=grouped).render("staff", 1, renderer=TEMPLATES)
    )
    assert "&lt;track&gt;" in html and "A &amp; B" in html


def test_a_single_select_marks_only_the_first_match() -> None:
    twice = [(1, "Ann"), ("1", "Ann again"), (2, "Eli")]
    html = StaffSelect(choices=twice).render("staff", 1)
    assert normalised(html) == normalised(
        forms.Select(choices=twice).render("staff", 1, renderer=TEMPLATES)
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
    stock = forms.ModelChoiceField(staff).widget.render(
        "staff", dana.pk, renderer=TEMPLATES
    )
    assert normalised(ours) == normalised(stock)
    assert "eli&lt;b&gt;" in ours


@pytest.mark.django_db
def test_the_staff_selects_of_one_page_read_the_staff_once(
    django_user_model: Any, django_assert_num_queries: Any
) -> None:
    """A therapist, co-therapists and a psychiatrist: three selects of the same
    people, one query between them; a second page (request) reads them again."""
    dana = django_user_model.objects.create_user("dana", is_staff=True)
    eli = django_user_model.objects.create_user("eli", is_staff=True)
    staff = django_user_model.objects.filter(is_staff=True).order_by("username")

    class CareTeam(forms.Form):
        def __init__(self, request: Any, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.fields["therapist"] = StaffChoiceField(
                **without_widget(staff_select(request, staff.all()))
            )
            self.fields["co_therapists"] = StaffMultipleChoiceField(
                required=False,
                **without_widget(staff_select(request, staff.all(), multiple=True)),
            )
            self.fields["psychiatrist"] = StaffChoiceField(
                **without_widget(staff_select(request, staff.all()))
            )

    request = RequestFactory().get("/")
    form = CareTeam(request, initial={"therapist": dana.pk, "psychiatrist": eli.pk})
    with django_assert_num_queries(1):
        html = [
            str(form[name]) for name in ("therapist", "co_therapists", "psychiatrist")
        ]
    assert all("dana" in part and "eli" in part for part in html)
    assert f'<option value="{dana.pk}" selected>' in html[0]
    assert f'<option value="{eli.pk}" selected>' in html[2]
    with django_assert_num_queries(1):
        str(CareTeam(RequestFactory().get("/"))["therapist"])


@pytest.mark.django_db
def test_a_staff_field_still_validates_against_its_queryset(
    django_user_model: Any,
) -> None:
    """The shared list is for showing; a posted id must still be one of the
    queryset's people (a deactivated therapist, another list's member)."""
    dana = django_user_model.objects.create_user("dana", is_staff=True)
    gone = django_user_model.objects.create_user("gone", is_staff=True, is_active=False)
    request = RequestFactory().get("/")
    active = django_user_model.objects.filter(is_active=True, is_staff=True)
    field = StaffChoiceField(**without_widget(staff_select(request, active)))
    assert field.clean(str(dana.pk)) == dana
    with pytest.raises(forms.ValidationError):
        field.clean(str(gone.pk))
    everyone = StaffChoiceField(
        **without_widget(staff_select(request, django_user_model.objects.all()))
    )
    assert "gone" in str(everyone.widget.render("x", None))
    assert "gone" not in str(field.widget.render("x", None))


@pytest.mark.django_db
def test_an_empty_staff_list_is_an_empty_select(django_user_model: Any) -> None:
    request = RequestFactory().get("/")
    nobody = django_user_model.objects.filter(pk__in=[])
    field = StaffChoiceField(**without_widget(staff_select(request, nobody)))
    html = field.widget.render("owner", None)
    assert html.count("<option") == 1 and '<option value=""' in html


def without_widget(kwargs: dict[str, Any]) -> dict[str, Any]:
    """staff_select's arguments as a form field takes them (a model field's
    formfield() takes the form class as an argument too)."""
    kwargs = dict(kwargs)
    del kwargs["form_class"]
    kwargs["widget"] = kwargs["widget"]()
    return kwargs


@pytest.mark.parametrize(
    "value",
    [
        'Dana "D" <Cho> & co\'s',
        mark_safe("<b>already safe</b>"),
        gettext_lazy("Select a valid choice <x>"),
        3,
        None,
        "",
    ],
)
def test_escaped_is_conditional_escape(value: Any) -> None:
    assert escaped(value) == conditional_escape(value)
