"""The site's form renderer (settings.FORM_RENDERER).

Django renders every widget, label and error list of a form from a template. On the
admin's longest pages (a client, an inquiry: 50 to 60 fields, a dozen radio lists) those
few hundred small template renders were most of the page's time, and kept the change
pages over their 50 ms goal (``make bench``, issue 7). The templates below are the ones
rendered once per field or per option; this renderer writes them in Python, to the
same HTML with the same escaping (``format_html`` escapes what ``{{ }}`` escapes, and
leaves a safe string alone as the template does). Every other template is Django's.

The admin's own per-field templates (fieldsets, tabular inline rows) are written in
Python the same way, in ``iopclinic/admin_html.py``.
``tests/iopclinic/test_form_renderer.py`` renders every admin form both ways and
compares the HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe

from intake.admin.widgets import attributes, escaped


def input_tag(widget: dict[str, Any]) -> str:
    """django/forms/widgets/input.html"""
    value = widget["value"]
    value_attr = f' value="{escaped(str(value))}"' if value is not None else ""
    return (
        f'<input type="{escaped(widget["type"])}" name="{escaped(widget["name"])}"'
        f"{value_attr}{attributes(widget['attrs'])}>"
    )


def option_tag(option: dict[str, Any]) -> str:
    """django/forms/widgets/input_option.html (a radio button or a checkbox)."""
    if not option["wrap_label"]:
        return input_tag(option)
    option_id = option["attrs"].get("id")
    for_attr = f' for="{escaped(option_id)}"' if option_id else ""
    return f"<label{for_attr}>{input_tag(option)} {escaped(option['label'])}</label>"


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
        rendered = "".join(
            f"<div>\n    {option_tag(option)}</div>" for option in options
        )
        groups.append(
            f"\n  <div><label>{escaped(group)}</label>{rendered}\n  </div>"
            if group
            else rendered
        )
    widget_id = widget["attrs"].get("id")
    css_class = widget["attrs"].get("class")
    id_attr = f' id="{escaped(widget_id)}"' if widget_id else ""
    class_attr = f' class="{escaped(css_class)}"' if css_class else ""
    # Every value escaped by escaped().
    return mark_safe(f"<div{id_attr}{class_attr}>{''.join(groups)}\n</div>")


_SELECT_OPTION = "django/forms/widgets/select_option.html"


def select_tag(widget: dict[str, Any]) -> SafeString | None:
    """django/forms/widgets/select.html (choice lists, autocompletes), unless an
    option has a template of its own."""
    groups = []
    for group, options, _ in widget["optgroups"]:
        if any(option["template_name"] != _SELECT_OPTION for option in options):
            return None
        rendered = "".join(
            f'\n  <option value="{escaped(str(option["value"]))}"'
            f"{attributes(option['attrs'])}>{escaped(option['label'])}</option>"
            for option in options
        )
        groups.append(
            f'\n  <optgroup label="{escaped(group)}">{rendered}\n  </optgroup>'
            if group
            else rendered
        )
    # Every value escaped by escaped().
    return mark_safe(
        f'<select name="{escaped(widget["name"])}"{attributes(widget["attrs"])}>'
        f"{''.join(groups)}\n</select>"
    )


def label_tag(context: dict[str, Any]) -> SafeString:
    """django/forms/label.html"""
    label = escaped(context["label"])
    if not context["use_tag"]:
        return mark_safe(label)
    tag = escaped(context["tag"])
    return mark_safe(f"<{tag}{attributes(context['attrs'])}>{label}</{tag}>")


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
        f"django/forms/widgets/{name}.html": lambda context: mark_safe(
            input_tag(context["widget"])
        )
        for name in _INPUTS
    },
    **{name: lambda context: multiple_input(context["widget"]) for name in _MULTIPLE},
    "django/forms/widgets/select.html": lambda context: select_tag(context["widget"]),
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
