"""The admin's per-field templates, written in Python.

Django's admin renders each field of a change page through ``admin/includes/
fieldset.html`` and each cell of a tabular inline through the rows loop of
``admin/edit_inline/tabular.html``: a dozen ``{% if %}`` tags per field, which were a
third of the longest change pages' time (a client with their inquiries, waitlist
entries and episodes; an inquiry's 60 fields), over their 50 ms goal (``make bench``,
issue 7). The functions below write the same HTML:

- ``templates/admin/includes/fieldset.html`` calls ``fieldset_html``;
- ``templates/admin/edit_inline/tabular.html`` is Django's template with its rows loop
  replaced by ``tabular_rows``;
- ``templates/admin/app_list.html`` (the index and every page's navigation sidebar)
  calls ``app_list_html``.

Every value is escaped by ``escaped()`` as ``{{ }}`` escapes it, except what the
templates mark safe (descriptions and help texts). ``tests/iopclinic/
test_form_renderer.py`` renders every admin page with Django's templates and with
these and compares the HTML, and checks that the tabular template is still Django's
around the loop.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.helpers import Fieldline
from django.contrib.admin.templatetags.admin_modify import cell_count
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.utils import quote
from django.template.defaultfilters import urlencode
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from intake.admin.widgets import escaped


def fieldset_html(
    fieldset: Any,
    *,
    heading_level: Any = 2,
    prefix: Any = "",
    id_prefix: Any = "",
    id_suffix: Any = "",
) -> SafeString:
    """admin/includes/fieldset.html: one fieldset of a change page or of a stacked
    inline, its heading, description and lines."""
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


def _is_hidden(field: Any) -> bool:
    return bool(
        field.field.get("is_hidden") if field.is_readonly else field.field.is_hidden
    )


def _field_html(field: Any, single: bool, line_errors: str) -> str:
    readonly = field.is_readonly
    bound = field.field
    in_fieldset = not readonly and field.is_fieldset
    if readonly:
        help_text, id_for_label = bound["help_text"], ""
    else:
        help_text, id_for_label = bound.help_text, bound.id_for_label
    hidden = _is_hidden(field)
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


def tabular_rows(formset: Any) -> SafeString:
    """The rows loop of admin/edit_inline/tabular.html: one row per inline form (the
    saved ones, the extra ones and the empty one the "Add another" button copies)."""
    forms = list(formset)
    rows = []
    for counter, inline_form in enumerate(forms):
        last = counter == len(forms) - 1
        is_empty = last and formset.has_add_permission
        row_errors = inline_form.form.non_field_errors()
        if row_errors:
            rows.append(
                f'<tr class="row-form-errors"><td colspan="{cell_count(inline_form)}">'
                f"{escaped(row_errors)}</td></tr>"
            )
        has_original = bool(inline_form.original or inline_form.show_url)
        css = "form-row " + ("has_original" if has_original else "")
        if is_empty:
            css += " empty-form"
        row_id = f"{formset.formset.prefix}-{'empty' if is_empty else counter}"
        cells = "".join(
            _cell_html(field)
            for fieldset in inline_form
            for line in fieldset
            for field in line
        )
        rows.append(
            f'<tr class="{escaped(css)}" id="{escaped(row_id)}">'
            f'<td class="original">{_original_html(formset, inline_form)}</td>'
            f'{cells}<td class="delete">{_delete_html(formset, inline_form)}</td></tr>'
        )
    return mark_safe("".join(rows))


def _original_html(formset: Any, inline_form: Any) -> str:
    """The first cell: the saved row's name and its change link, and the hidden id
    and parent fields."""
    parts = []
    original = inline_form.original
    if original or inline_form.show_url:
        parts.append("<p>")
        if original:
            parts.append(escaped(str(original)))
            model_admin = inline_form.model_admin
            if model_admin.show_change_link and model_admin.has_registered_model:
                # django-stubs type the URL name's suffix as a SafeString.
                change = admin_urlname(model_admin.opts, SafeString("change"))
                url = reverse(
                    change,
                    args=[quote(original.pk)],
                    current_app=model_admin.admin_site.name,
                )
                may_change = formset.has_change_permission
                parts.append(
                    f'<a href="{escaped(url)}" '
                    f'class="{"inlinechangelink" if may_change else "inlineviewlink"}">'
                    f"{escaped(gettext('Change') if may_change else gettext('View'))}"
                    "</a>"
                )
        if inline_form.show_url:
            parts.append(
                f'<a href="{escaped(inline_form.absolute_url)}">'
                f"{escaped(gettext('View on site'))}</a>"
            )
        parts.append("</p>")
    if inline_form.needs_explicit_pk_field():
        parts.append(escaped(str(inline_form.pk_field().field)))
    fk_field = inline_form.fk_field()
    if fk_field:
        parts.append(escaped(str(fk_field.field)))
    return "".join(parts)


def _cell_html(field: Any) -> str:
    name = _name(field)
    hidden = _is_hidden(field)
    css = (f"field-{name}" if name else "") + (" hidden" if hidden else "")
    if field.is_readonly:
        content = f"<p>{escaped(field.contents())}</p>"
    else:
        content = f"{field.field.errors.as_ul()}{escaped(str(field.field))}"
    return f'<td class="{escaped(css)}">{content}</td>'


def _delete_html(formset: Any, inline_form: Any) -> str:
    if (
        formset.formset.can_delete
        and formset.has_delete_permission
        and inline_form.original
    ):
        return escaped(str(inline_form.deletion_field().field))
    return ""


def app_list_html(
    app_list: Any, *, request_path: str, show_changelinks: bool
) -> SafeString:
    """admin/app_list.html: each app's table of models, with their add and change (or
    view) links; the page's own app and model marked current."""
    if not app_list:
        message = gettext("You don’t have permission to view or edit anything.")
        return mark_safe(f"<p>{escaped(message)}</p>")
    path = urlencode(request_path)
    apps = []
    for app in app_list:
        label = app["app_label"]
        current = " current-app" if str(app["app_url"]) in path else ""
        rows = "".join(
            _model_row(label, model, path, show_changelinks) for model in app["models"]
        )
        apps.append(
            f'<div class="app-{escaped(label)} module{current}"><table><caption>'
            f'<a href="{escaped(app["app_url"])}" class="section">'
            f"{escaped(app['name'])}</a></caption>"
            '<thead class="visually-hidden"><tr>'
            f'<th scope="col">{escaped(gettext("Model name"))}</th>'
            f'<th scope="col">{escaped(gettext("Add link"))}</th>'
            f'<th scope="col">{escaped(gettext("Change or view list link"))}</th>'
            f"</tr></thead>{rows}</table></div>"
        )
    return mark_safe("".join(apps))


def _model_row(label: str, model: Any, path: str, show_changelinks: bool) -> str:
    name = str(model["object_name"]).lower()
    row_id = escaped(f"{label}-{name}")
    admin_url = model.get("admin_url")
    current = bool(admin_url) and str(admin_url) in path
    if admin_url:
        aria_current = ' aria-current="page"' if current else ""
        heading = (
            f'<a href="{escaped(admin_url)}"{aria_current}>{escaped(model["name"])}</a>'
        )
    else:
        heading = escaped(model["name"])
    add_url = model.get("add_url")
    add = (
        f'<td><a href="{escaped(add_url)}" class="addlink" '
        f'aria-describedby="{row_id}">{escaped(gettext("Add"))}</a></td>'
        if add_url
        else "<td></td>"
    )
    change = ""
    if admin_url and show_changelinks:
        kind, text = (
            ("viewlink", gettext("View"))
            if model.get("view_only")
            else ("changelink", gettext("Change"))
        )
        change = (
            f'<td><a href="{escaped(admin_url)}" class="{kind}" '
            f'aria-describedby="{row_id}">{escaped(text)}</a></td>'
        )
    elif show_changelinks:
        change = "<td></td>"
    css = escaped(f"model-{name}{' current-model' if current else ''}")
    return (
        f'<tr class="{css}"><th scope="row" id="{row_id}">{heading}</th>'
        f"{add}{change}</tr>"
    )
