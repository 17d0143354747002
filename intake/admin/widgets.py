"""Widgets shared by the admins of every app (intake is the lowest app)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any, cast

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


def escaped(value: Any) -> str:
    """``conditional_escape(value)``: a safe string as it is, anything else as text
    with ``& < > " '`` escaped. The same result without the lazy-argument wrapper
    Django puts around ``escape()``: a change page escapes a few thousand values
    (every option, attribute and label), and the wrapper was a tenth of its time."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def attributes(attrs: dict[str, Any]) -> str:
    """HTML attributes as Django's ``attrs.html`` writes them: in order, a True one
    by its name alone, a False one left out."""
    return "".join(
        f" {escaped(name)}" if value is True else
        f' {escaped(name)}="{escaped(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )  # fmt: skip


class PlainOptionsMixin:
    """Write a select's ``<option>`` tags in Python, straight from its choices.
    Django builds a dictionary and renders a template for each option; for a staff
    list of 150 people on three fields of one page that was most of the page's time
    (``make bench``). Same HTML, same escaping, same rule for what is selected (a
    single select marks only the first match)."""

    def render(
        self, name: str, value: Any, attrs: Any = None, renderer: Any = None
    ) -> SafeString:
        widget = cast(forms.Select, self)
        chosen = set(widget.format_value(value))
        selected_one = False

        def option(option_value: Any, label: Any) -> str:
            nonlocal selected_one
            option_value = "" if option_value is None else option_value
            selected = str(option_value) in chosen and (
                widget.allow_multiple_selected or not selected_one
            )
            selected_one |= selected
            selected_attr = " selected" if selected else ""
            return (
                f'<option value="{escaped(option_value)}"{selected_attr}>'
                f"{escaped(label)}</option>"
            )

        parts: list[str] = []
        for group_value, group_label in widget.choices:
            if isinstance(group_label, (list, tuple)):
                # Each option escaped by option().
                options = mark_safe("".join(option(*choice) for choice in group_label))
                parts.append(
                    format_html(
                        '<optgroup label="{}">{}</optgroup>', group_value, options
                    )
                )
            else:
                parts.append(option(group_value, group_label))
        tag_attrs = widget.build_attrs(widget.attrs, attrs)
        if widget.allow_multiple_selected:
            tag_attrs["multiple"] = True
        # Every part escaped by escaped() or format_html.
        return mark_safe(
            f'<select name="{escaped(name)}"{attributes(tag_attrs)}>'
            f"{''.join(parts)}</select>"
        )


class StaffSelect(PlainOptionsMixin, forms.Select):
    """A choice among the staff (therapist, psychiatrist, facilitator, clinician)."""


class StaffSelectMultiple(PlainOptionsMixin, forms.SelectMultiple):
    """Several staff members (co-therapists)."""


class ReadOncePerPage(ModelChoiceIterator):
    """A staff select's choices, read with one plain query and shared with the page's
    other selects of the same list. An enrollment's page has three (therapist,
    co-therapists, psychiatrist) of 150 people; Django reads each list again, through
    a server-side cursor on PostgreSQL (DECLARE, FETCH, CLOSE), and that was a quarter
    of the page's time (``make bench``). The list lives in a dictionary kept on the
    request (``staff_select``), so it never outlives the page."""

    field: Any

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        try:
            # The same people, written the same way (an option's value is the pk,
            # or the field's to_field_name).
            key = f"{self.field.to_field_name}:{self.queryset.query}"
        except EmptyResultSet:  # an empty list: nothing to read
            return
        choices = self.field.page_choices.get(key)
        if choices is None:
            choices = [self.choice(person) for person in self.queryset]
            self.field.page_choices[key] = choices
        yield from choices


class StaffChoiceField(forms.ModelChoiceField):
    iterator = ReadOncePerPage

    def __init__(self, *args: Any, page_choices: dict[str, Any], **kwargs: Any):
        self.page_choices = page_choices
        super().__init__(*args, **kwargs)


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = ReadOncePerPage

    def __init__(self, *args: Any, page_choices: dict[str, Any], **kwargs: Any):
        self.page_choices = page_choices
        super().__init__(*args, **kwargs)


def staff_select(
    request: HttpRequest, queryset: QuerySet[Any], *, multiple: bool = False
) -> dict[str, Any]:
    """The ``formfield_for_foreignkey`` (or ``_manytomany``) arguments of a choice
    among ``queryset``'s staff: a plain select (a short list), whose choices are
    read once for the whole page. Validation still looks the posted id up in the
    queryset."""
    return {
        "queryset": queryset,
        "widget": StaffSelectMultiple if multiple else StaffSelect,
        "form_class": StaffMultipleChoiceField if multiple else StaffChoiceField,
        "page_choices": request.__dict__.setdefault("staff_choices_read", {}),
    }


class AutocompleteSelect(admin_widgets.AutocompleteSelect):
    """Django's autocomplete, except that a posted value which cannot be an id of the
    related model is left out when the page is shown again with its errors: Django
    filters the related table with it, and "abc" or a NUL byte was a 500 instead of
    the field's "Select a valid choice"."""

    def optgroups(self, name: str, value: Any, attr: Any = None) -> Any:
        remote = self.field.remote_field
        target = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        return super().optgroups(name, [v for v in value if _is_id(target, v)], attr)


def _is_id(field: Any, value: Any) -> bool:
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return "\x00" not in str(value)


class AutocompleteMixin:
    """For a ModelAdmin with ``autocomplete_fields``: use the AutocompleteSelect
    above."""

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        admin_self: Any = self
        autocomplete = admin_self.get_autocomplete_fields(request)
        if "widget" not in kwargs and db_field.name in autocomplete:
            kwargs["widget"] = AutocompleteSelect(
                db_field, admin_self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(  # type: ignore[misc]
            db_field, request, **kwargs
        )
