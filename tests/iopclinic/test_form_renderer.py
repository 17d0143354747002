"""The site's form renderer (iopclinic/forms.py) writes widgets, labels and empty error
lists in Python for speed, and iopclinic/admin_html.py the admin's fieldsets and tabular
inline rows: every admin form must come out as Django's templates write it, with the
same escaping."""

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
from django.test.html import parse_html
from django.urls import reverse

from iopclinic import roles
from iopclinic.forms import ClinicFormRenderer
from tests.admin_forms import form_data
from tests.factories import (
    ClientFactory,
    ConsentFactory,
    EnrollmentFactory,
    InquiryFactory,
    WaitlistEntryFactory,
)
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


# The admin's own templates that templates/admin/ replaces with Python.
DJANGOS_ADMIN_TEMPLATES = Path(django.contrib.admin.__file__).parent / "templates"
REPLACED = [
    "admin/includes/fieldset.html",
    "admin/edit_inline/tabular.html",
    "admin/app_list.html",
]
PROJECT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture(scope="module")
def djangos_templates(tmp_path_factory: Any) -> Path:
    """A template folder holding Django's own copies of the replaced templates."""
    folder = tmp_path_factory.mktemp("djangos_templates")
    for name in REPLACED:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text((DJANGOS_ADMIN_TEMPLATES / name).read_text())
    return folder


def test_the_site_renders_forms_with_the_clinic_renderer(settings: Any) -> None:
    assert settings.FORM_RENDERER == CLINIC


def test_the_tabular_template_is_djangos_around_its_rows() -> None:
    """templates/admin/edit_inline/tabular.html is Django's, with the rows loop
    replaced by {% tabular_rows %}: a Django upgrade that changes the template fails
    here, to be copied again."""
    name = "admin/edit_inline/tabular.html"
    djangos = (DJANGOS_ADMIN_TEMPLATES / name).read_text()
    loop = re.compile(
        r" *{% for inline_admin_form in inline_admin_formset %}.*?"
        r"\n     {% endfor %}\n(?= *</tbody>)",
        re.DOTALL,
    )
    assert len(loop.findall(djangos)) == 1
    expected = loop.sub("     {% tabular_rows %}\n", djangos).replace(
        "admin_modify %}", "admin_modify clinic_forms %}", 1
    )
    assert (PROJECT_TEMPLATES / name).read_text() == expected


def both_ways(client: Any, settings: Any, djangos_templates: Path, ask: Any) -> None:
    """The page ``ask(client)`` answers, once with Django's templates for the
    widgets, the fieldsets and the inline rows, once with the clinic's Python: the
    same HTML."""
    ours_templates = settings.TEMPLATES
    settings.FORM_RENDERER = DJANGO
    settings.TEMPLATES = [
        {**engine, "DIRS": [djangos_templates, *engine["DIRS"]]}
        for engine in ours_templates
    ]
    expected = ask(client)
    settings.FORM_RENDERER = CLINIC
    settings.TEMPLATES = ours_templates
    ours = ask(client)
    assert ours == expected, differences(str(ours), str(expected))


@pytest.mark.parametrize("label", sorted(ROW_MAKERS))
def test_every_admin_form_is_the_html_djangos_templates_write(
    client: Any, superuser: Any, settings: Any, djangos_templates: Path, label: str
) -> None:
    client.force_login(superuser)
    app_label, model_name = label.split(".")
    record = ROW_MAKERS[label](1)[0]
    urls = [reverse(f"admin:{app_label}_{model_name}_change", args=[record.pk])]
    if client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 200:
        urls.append(reverse(f"admin:{app_label}_{model_name}_add"))
    for url in urls:
        both_ways(client, settings, djangos_templates, partial(page_html, url=url))


def test_every_admin_form_with_errors_is_the_html_djangos_templates_write(
    client: Any, superuser: Any, settings: Any, djangos_templates: Path
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
        both_ways(client, settings, djangos_templates, partial(refused, url=url))
        checked.append(label)
    assert len(checked) >= 12 and {"intake.inquiry", "intake.client"} <= set(checked)


def refused(client: Any, url: str) -> Any:
    response = client.post(url, {})
    assert response.status_code == 200, f"an empty form was saved at {url}"
    return parse_html(PER_REQUEST.sub(r'\1\2=""', response.content.decode()))


@pytest.mark.parametrize(
    "role",
    [
        None,
        roles.INTAKE_COORDINATOR,
        roles.THERAPIST,
        roles.PROGRAM_MANAGER,
        "superuser",
    ],
)
def test_the_index_and_sidebar_are_the_html_djangos_templates_write(
    client: Any, make_staff: Any, settings: Any, djangos_templates: Path, role: Any
) -> None:
    """The app list with its add, change and view links (the index), the sidebar of
    a list page with its app and model marked current, and a user who may see
    nothing."""
    user = make_staff(superuser=True) if role == "superuser" else make_staff(role)
    client.force_login(user)
    pages = [reverse("admin:index")]
    if role is not None:
        pages.append(reverse("admin:intake_client_changelist"))
    for url in pages:
        if client.get(url).status_code == 200:
            both_ways(client, settings, djangos_templates, partial(page_html, url=url))
    if role is None:
        assert "permission to view or edit anything" in str(page_html(client, pages[0]))


def returning_client(therapist: Any) -> Any:
    """A client with rows in every inline of their page, and text to escape."""
    person = ClientFactory(first_name="Ann <b>")
    ConsentFactory(client=person, recipient='Dr "Who" & <Co>')
    ConsentFactory(
        client=person, revoked_on=person.created_at.date(), revoked_by=therapist
    )
    InquiryFactory(client=person)
    WaitlistEntryFactory(client=person)
    EnrollmentFactory(client=person, primary_therapist=therapist)
    return person


@pytest.mark.parametrize("viewer", ["superuser", "therapist"])
def test_inline_rows_are_the_html_djangos_templates_write(
    client: Any,
    make_staff: Any,
    settings: Any,
    djangos_templates: Path,
    viewer: str,
) -> None:
    """Saved rows with their change links (a superuser may change the consents, the
    client's therapist only view them), read-only columns, the empty row the "Add
    another" button copies."""
    therapist = make_staff(roles.THERAPIST)
    user = therapist if viewer == "therapist" else make_staff(superuser=True)
    person = returning_client(therapist)
    client.force_login(user)
    url = reverse("admin:intake_client_change", args=[person.pk])
    html = str(page_html(client, url))
    link = "inlinechangelink" if viewer == "superuser" else "inlineviewlink"
    assert f'class="{link}"' in html
    assert "Dr &quot;Who&quot; &amp; &lt;Co&gt;" in html
    both_ways(client, settings, djangos_templates, partial(page_html, url=url))


def test_inline_rows_with_errors_are_the_html_djangos_templates_write(
    client: Any, superuser: Any, settings: Any, djangos_templates: Path
) -> None:
    """A consent row with a date that is not one: the error in its cell."""
    person = returning_client(superuser)
    client.force_login(superuser)
    url = reverse("admin:intake_client_change", args=[person.pk])
    data = form_data(client.get(url), **{"consents-0-signed_on": "not a date"})

    def refused(client: Any) -> Any:
        response = client.post(url, data)
        assert response.status_code == 200, "the bad date was saved"
        assert b"Enter a valid date" in response.content
        return parse_html(PER_REQUEST.sub(r'\1\2=""', response.content.decode()))

    both_ways(client, settings, djangos_templates, refused)


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
