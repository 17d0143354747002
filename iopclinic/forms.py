"""The site's form renderer (settings.FORM_RENDERER).

Django renders every widget, label and error list of a form from a template. On the
admin's longest pages (a client, an inquiry: 50 to 60 fields, a dozen radio lists) those
few hundred small template renders were most of the page's time, and kept the change
pages over their 50 ms goal (``make bench``, issue 7). The templates below are the ones
rendered once per field; this renderer writes them in Python, to the same HTML with the
same escaping (``format_html`` escapes what ``{{ }}`` escapes, and leaves a safe string
alone as the template does). Every other template is Django's.
``tests/iopclinic/test_form_renderer.py`` renders every field of every admin form both
ways and compares the HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from intake.admin.widgets import attributes


def input_tag(widget: dict[str, Any]) -> SafeString:
    """django/forms/widgets/input.html"""
    value = (
        format_html(' value="{}"', str(widget["value"]))
        if widget["value"] is not None
        else ""
    )
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        widget["type"],
        widget["name"],
        value,
        attributes(widget["attrs"]),
    )


def option_tag(option: dict[str, Any]) -> SafeString:
    """django/forms/widgets/input_option.html (a radio button or a checkbox)."""
    if not option["wrap_label"]:
        return input_tag(option)
    option_id = option["attrs"].get("id")
    return format_html(
        "<label{}>{} {}</label>",
        format_html(' for="{}"', option_id) if option_id else "",
        input_tag(option),
        option["label"],
    )


_OPTIONS = {
    "django/forms/widgets/radio_option.html",
    "django/forms/widgets/checkbox_option.html",
    "django/forms/widgets/input_option.html",
}


def multiple_input(widget: dict[str, Any]) -> SafeString | None:
    """django/forms/widgets/multiple_input.html (radio and checkbox lists), unless an
    option has a template of its own."""
    if any(
        option["template_name"] not in _OPTIONS
        for _, options, _ in widget["optgroups"]
        for option in options
    ):
        return None
    groups = []
    for group, options, _ in widget["optgroups"]:
        rendered = format_html_join(
            "", "<div>\n    {}</div>", ((option_tag(option),) for option in options)
        )
        groups.append(
            format_html("\n  <div><label>{}</label>{}\n  </div>", group, rendered)
            if group
            else rendered
        )
    widget_id = widget["attrs"].get("id")
    css_class = widget["attrs"].get("class")
    return format_html(
        "<div{}{}>{}\n</div>",
        format_html(' id="{}"', widget_id) if widget_id else "",
        format_html(' class="{}"', css_class) if css_class else "",
        mark_safe("".join(groups)),  # each part built by format_html
    )


def label_tag(context: dict[str, Any]) -> SafeString:
    """django/forms/label.html"""
    if not context["use_tag"]:
        return format_html("{}", context["label"])
    return format_html(
        "<{}{}>{}</{}>",
        context["tag"],
        attributes(context["attrs"]),
        context["label"],
        context["tag"],
    )


def error_list(context: dict[str, Any]) -> SafeString | None:
    """django/forms/errors/list/ul.html when there is no error (most fields, most
    of the time); a list with errors is left to the template."""
    return SafeString("") if not context["errors"] else None


_INPUTS = ("input", "text", "hidden", "email", "number", "password", "url", "checkbox")
_MULTIPLE = (
    "django/forms/widgets/multiple_input.html",
    "django/forms/widgets/radio.html",
    "django/forms/widgets/checkbox_select.html",
    "admin/widgets/radio.html",
)

# template name -> a function of the template's context; None from the function
# means "use the template after all".
IN_PYTHON: dict[str, Callable[[dict[str, Any]], SafeString | None]] = {
    **{
        f"django/forms/widgets/{name}.html": lambda context: input_tag(
            context["widget"]
        )
        for name in _INPUTS
    },
    **{name: lambda context: multiple_input(context["widget"]) for name in _MULTIPLE},
    "django/forms/label.html": label_tag,
    "django/forms/errors/list/default.html": error_list,
    "django/forms/errors/list/ul.html": error_list,
}


class ClinicFormRenderer(DjangoTemplates):
    """Django's form renderer, with the per-field templates of IN_PYTHON written in
    Python."""

    def render(
        self, template_name: str, context: dict[str, Any], request: Any = None
    ) -> str:
        write = IN_PYTHON.get(template_name)
        html = write(context) if write is not None else None
        if html is None:
            return super().render(template_name, context, request)
        return html
