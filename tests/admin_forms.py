"""Build the POST an admin change or add page would send, from the page itself."""

from __future__ import annotations

from typing import Any, cast

from django import forms


def _field_items(form: forms.BaseForm, name: str) -> dict[str, Any]:
    """The (key, value) pairs a browser posts for one field, as it is shown."""
    field = form.fields[name]
    key = form.add_prefix(name)
    value = form[name].value()
    if isinstance(field.widget, forms.MultiWidget):
        # The admin's split date and time: received_at_0, received_at_1.
        widget = cast(Any, field.widget)  # django-stubs lack widgets_names
        parts = list(widget.decompress(value) or []) if value else []
        return {
            f"{key}{suffix}": ""
            if index >= len(parts) or parts[index] is None
            else parts[index]
            for index, suffix in enumerate(widget.widgets_names)
        }
    if isinstance(field, forms.BooleanField):
        # A checkbox is left out when unticked.
        return {key: "on"} if value else {}
    if isinstance(value, bool):
        # A yes/no radio (the safety screen) posts its choice's text.
        return {key: str(value)}
    if isinstance(value, list | tuple):
        return {key: [str(item) for item in value]} if value else {}
    return {key: "" if value is None else value}


def form_data(response: Any, **overrides: Any) -> dict[str, Any]:
    """Everything the page's main form and its inline formsets would submit, changed by
    ``overrides``. A value of None leaves a field out, as an unticked checkbox is."""
    context = response.context
    data: dict[str, Any] = {}
    form = context["adminform"].form
    for name in form.fields:
        data.update(_field_items(form, name))
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        for management_name in formset.management_form.fields:
            data.update(_field_items(formset.management_form, management_name))
        for inline_form in formset.forms:
            for name in inline_form.fields:
                data.update(_field_items(inline_form, name))
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
