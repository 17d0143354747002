"""Build the POST an admin change or add page would send, from the page itself."""

from __future__ import annotations

from typing import Any


def _field_value(bound_field: Any) -> Any:
    value = bound_field.value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return value


def form_data(response: Any, **overrides: Any) -> dict[str, Any]:
    """Everything the page's main form and its inline formsets would submit, changed by
    ``overrides``. A value of None leaves a field out, as an unticked checkbox is."""
    context = response.context
    data: dict[str, Any] = {}
    form = context["adminform"].form
    for name in form.fields:
        data[form.add_prefix(name)] = _field_value(form[name])
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = _field_value(management[name])
        for inline_form in formset.forms:
            for name in inline_form.fields:
                data[inline_form.add_prefix(name)] = _field_value(inline_form[name])
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
