"""The site's form renderer (settings.FORM_RENDERER).

Django renders every widget, label and error list of a form from a template. On the
admin's longest pages (a client, an inquiry: 50 to 60 fields, a dozen radio lists) those
few hundred small template renders were most of the page's time, and kept the change
pages over their 50 ms goal (``make bench``, issue 7). The templates below are the ones
rendered once per field or per option; this renderer writes them in Python, to the
same HTML with the same escaping (``format_html`` escapes what ``{{ }}`` escapes, and
leaves a safe string alone as the template does). Every other template is Django's.

The admin's ``admin/includes/fieldset.html`` is the same kind of template: it runs a
dozen ``{% if %}`` tags for every field of a change page. ``fieldset_html`` below writes
it in Python too (``templates/admin/includes/fieldset.html`` calls it).
``tests/iopclinic/test_form_renderer.py`` renders every field and fieldset of every
admin form both ways and compares the HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.admin.helpers import Fieldline
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


def fieldset_html(
    fieldset: Any,
    *,
    heading_level: Any = 2,
    prefix: Any = "",
    id_prefix: Any = "",
    id_suffix: Any = "",
) -> SafeString:
    """admin/includes/fieldset.html: one fieldset of a change page or of a stacked
    inline, its heading, description and lines. Every value is escaped by
    ``escaped()`` as ``{{ }}`` would, but the description and help texts, which the
    template marks safe."""
    heading_id = escaped(f"{prefix}-{id_prefix}-{id_suffix}-heading")
    labelled_by = f' aria-labelledby="{heading_id}"' if fieldset.name else ""
    parts = [
        f'<fieldset class="module aligned {escaped(fieldset.classes)}"{labelled_by}>'
    ]
    collapsible = bool(fieldset.name) and fieldset.is_collapsible
    if fieldset.name:
        level = escaped(heading_level or 2)
        heading = (
            f'<h{level} id="{heading_id}" class="fieldset-heading">'
            f"{escaped(fieldset.name)}</h{level}>"
        )
        parts.append(
            f"<details><summary>{heading}</summary>" if collapsible else heading
        )
    if fieldset.description:
        parts.append(f'<div class="description">{fieldset.description}</div>')
    parts.extend(_line_html(line) for line in fieldset)
    if collapsible:
        parts.append("</details>")
    parts.append("</fieldset>")
    return mark_safe("".join(parts))


def _line_html(line: Fieldline) -> str:
    """One ``form-row``: a field, or several side by side."""
    fields = list(line)  # the template walks the line twice; build its fields once
    single = len(line.fields) == 1
    line_errors = line.errors() if single else ""
    css = "form-row"
    if not single:
        css += " flex-container form-multiline"
    if not line.has_visible_field:
        css += " hidden"
    css += "".join(f" field-{name}" for field in fields if (name := _name(field)))
    cells = "".join(_field_html(field, single, line_errors) for field in fields)
    return f'<div class="{escaped(css)}">{cells}</div>'


def _name(field: Any) -> str:
    # A read-only field's ``field`` is a dictionary (AdminReadonlyField), an editable
    # one's a BoundField.
    return field.field["name"] if field.is_readonly else field.field.name


def _field_html(field: Any, single: bool, line_errors: str) -> str:
    readonly = field.is_readonly
    bound = field.field
    in_fieldset = not readonly and field.is_fieldset
    if readonly:
        help_text, id_for_label = bound["help_text"], ""
        hidden = bound.get("is_hidden")
    else:
        help_text, id_for_label, hidden = (
            bound.help_text,
            bound.id_for_label,
            bound.is_hidden,
        )
    errors = "" if readonly else field.errors()
    name = _name(field)
    css = "flex-container"
    if errors or (single and line_errors):
        css += " errors"
    if not single:
        css += " fieldBox"
        if name:
            css += f" field-{name}"
        if hidden:
            css += " hidden"
    if field.is_checkbox:
        css += " checkbox-row"
    parts = []
    if in_fieldset:
        described_by = (
            f' aria-describedby="{escaped(id_for_label)}_helptext"' if help_text else ""
        )
        parts.append(f"<fieldset{described_by}>{escaped(field.label_tag())}")
    parts.append(f'<div class="{escaped(css)}">')
    label = "" if in_fieldset else escaped(field.label_tag())
    if field.is_checkbox:
        parts.append(f'<div class="checkbox">{escaped(str(bound))}{label}</div>')
    else:
        parts.append(label)
    if help_text:
        help_id = f' id="{escaped(id_for_label)}_helptext"' if id_for_label else ""
        parts.append(
            f'<div class="help{" hidden" if hidden else ""}"{help_id}>'
            f"<div>{help_text}</div></div>"
        )
    if single:
        parts.append(line_errors)
    elif not readonly:
        parts.append(errors)
    if not field.is_checkbox:
        if readonly:
            parts.append(f'<div class="readonly">{escaped(field.contents())}</div>')
        else:
            parts.append(escaped(str(bound)))
    parts.append("</div>")
    if in_fieldset:
        parts.append("</fieldset>")
    return "".join(parts)
