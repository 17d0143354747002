"""Widgets shared by the admins of every app (intake is the lowest app)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def attributes(attrs: dict[str, Any]) -> SafeString:
    """HTML attributes as Django's ``attrs.html`` writes them: in order, a True one
    by its name alone, a False one left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else
             format_html(' {}="{}"', name, str(value)),)
            for name, value in attrs.items()
            if value is not False
        ),
    )  # fmt: skip


class PlainOptionsMixin:
    """Write a select's ``<option>`` tags in Python. Django renders a template for
    each option; for a staff list of 150 people on three fields of one page that
    was most of the page's time (``make bench``). Same HTML, same escaping."""

    def render(
        self, name: str, value: Any, attrs: Any = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        groups = []
        for group_name, options, _ in widget["optgroups"]:
            rendered = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((option["value"], attributes(option["attrs"]), option["label"])
                 for option in options),
            )  # fmt: skip
            groups.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered)
                if group_name
                else rendered
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            attributes(widget["attrs"]),
            mark_safe("".join(groups)),  # each part built by format_html
        )


class StaffSelect(PlainOptionsMixin, forms.Select):
    """A choice among the staff (therapist, psychiatrist, facilitator, clinician)."""


class StaffSelectMultiple(PlainOptionsMixin, forms.SelectMultiple):
    """Several staff members (co-therapists)."""
