"""The site's form renderer (iopclinic/forms.py) writes widgets, labels, empty error
lists and the admin's fieldsets in Python for speed: every admin form must come out as
Django's templates write it, with the same escaping."""

from __future__ import annotations

import difflib
import re
from functools import partial
from pathlib import Path
from typing import Any

import django.contrib.admin
import pytest
from django import forms
from django.contrib.admin.widgets import AdminRadioSelect
from django.forms.renderers import DjangoTemplates
from django.template import engines
from django.test.html import parse_html
from django.urls import reverse

from iopclinic import forms as clinic_forms
from iopclinic.forms import ClinicFormRenderer
from tests.iopclinic.test_admin_queries import ROW_MAKERS

pytestmark = pytest.mark.django_db

DJANGO = "django.forms.renderers.DjangoTemplates"
CLINIC = "iopclinic.forms.ClinicFormRenderer"
# What differs between two requests for the same page, whatever renders the form: the
# CSRF token, the CSP nonce, and an add page's "now" (a time to the second).
PER_REQUEST = re.compile(
    r'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"|(value)="\d\d:\d\d:\d\d"'
)


def page_html(client: Any, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    return parse_html(PER_REQUEST.sub(r'\1\2=""', response.content.decode()))


def differences(ours: str, expected: str) -> str:
    return "\n".join(
        difflib.unified_diff(expected.splitlines(), ours.splitlines(), lineterm="", n=1)
    )


# The admin's own fieldset template, which templates/admin/includes/fieldset.html
# replaces with clinic_forms.fieldset_html.
DJANGOS_FIELDSET = (
    Path(django.contrib.admin.__file__).parent
    / "templates"
    / "admin"
    / "includes"
    / "fieldset.html"
)


def djangos_fieldset(fieldset: Any, **context: Any) -> str:
    template = engines["django"].from_string(DJANGOS_FIELDSET.read_text())
    return template.render({"fieldset": fieldset, **context})


def test_the_site_renders_forms_with_the_clinic_renderer(settings: Any) -> None:
    assert settings.FORM_RENDERER == CLINIC


def both_ways(client: Any, settings: Any, monkeypatch: Any, ask: Any) -> None:
    """The page ``ask(client)`` answers, once with Django's templates for the
    widgets and the fieldsets, once with the clinic's Python: the same HTML."""
    settings.FORM_RENDERER = DJANGO
    with monkeypatch.context() as patch:
        patch.setattr(clinic_forms, "fieldset_html", djangos_fieldset)
        expected = ask(client)
    settings.FORM_RENDERER = CLINIC
    ours = ask(client)
    assert ours == expected, differences(str(ours), str(expected))


@pytest.mark.parametrize("label", sorted(ROW_MAKERS))
def test_every_admin_form_is_the_html_djangos_templates_write(
    client: Any, superuser: Any, settings: Any, monkeypatch: Any, label: str
) -> None:
    client.force_login(superuser)
    app_label, model_name = label.split(".")
    record = ROW_MAKERS[label](1)[0]
    urls = [reverse(f"admin:{app_label}_{model_name}_change", args=[record.pk])]
    if client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 200:
        urls.append(reverse(f"admin:{app_label}_{model_name}_add"))
    for url in urls:
        both_ways(client, settings, monkeypatch, partial(page_html, url=url))


def test_every_admin_form_with_errors_is_the_html_djangos_templates_write(
    client: Any, superuser: Any, settings: Any, monkeypatch: Any
) -> None:
    """An empty form posted to each add page: required fields and lines of several
    fields show their errors, as Django's templates place them."""
    client.force_login(superuser)
    checked = []
    for label in sorted(ROW_MAKERS):
        app_label, model_name = label.split(".")
        ROW_MAKERS[label](1)
        url = reverse(f"admin:{app_label}_{model_name}_add")
        response = client.post(url, {})
        if response.status_code != 200 or b"errornote" not in response.content:
            continue  # added elsewhere (a workflow), or a form in steps
        both_ways(client, settings, monkeypatch, partial(refused, url=url))
        checked.append(label)
    assert len(checked) >= 12 and {"intake.inquiry", "intake.client"} <= set(checked)


def refused(client: Any, url: str) -> Any:
    response = client.post(url, {})
    assert response.status_code == 200, f"an empty form was saved at {url}"
    return parse_html(PER_REQUEST.sub(r'\1\2=""', response.content.decode()))


class Everything(forms.Form):
    """Each widget the renderer writes, with values that need escaping."""

    name = forms.CharField(initial='Ann "A" <b>', label="Name <i>", help_text="x")
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(widget=forms.HiddenInput, initial="&amp;")
    email = forms.EmailField(required=False)
    count = forms.IntegerField(initial=3, min_value=0)
    agreed = forms.BooleanField(initial=True, required=False)
    url = forms.URLField(required=False)
    kind = forms.ChoiceField(
        choices=[("a", "A & B"), ("<c>", "C")],
        initial="<c>",
        widget=AdminRadioSelect(attrs={"class": "radiolist inline"}),
    )
    grouped = forms.ChoiceField(
        choices=[("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")],
        initial="y",
        widget=forms.RadioSelect,
    )
    pick = forms.ChoiceField(
        choices=[("", "---"), ("a", "A & B"), ("Group <2>", [("<c>", "C")])],
        initial="<c>",
    )
    picks = forms.MultipleChoiceField(
        choices=[(1, "One"), (2, "Two <2>")],
        initial=[1, 2],
        widget=forms.SelectMultiple(attrs={"data-x": 'a"b'}),
    )
    several = forms.MultipleChoiceField(
        choices=[("1", "One"), ("2", "Two")],
        initial=["2"],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


@pytest.mark.parametrize("data", [None, {"count": "-1", "email": "not <an> email"}])
def test_each_widget_label_and_error_list_matches_the_template(
    data: dict[str, str] | None,
) -> None:
    ours = Everything(data, renderer=ClinicFormRenderer())
    theirs = Everything(data, renderer=DjangoTemplates())
    assert parse_html(ours.render()) == parse_html(theirs.render())
    for field in ours:
        other = theirs[field.name]
        assert parse_html(str(field)) == parse_html(str(other)), field.name
        assert field.label_tag() == other.label_tag()
        assert str(field.errors) == str(other.errors)
    assert "&lt;c&gt;" in str(ours["kind"]) and "<c>" not in str(ours["kind"])
    if data is None:
        assert 'value="Ann &quot;A&quot; &lt;b&gt;"' in str(ours["name"])
