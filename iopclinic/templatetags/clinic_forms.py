"""``{% admin_fieldset %}``, ``{% tabular_rows %}`` and ``{% admin_app_list %}``: parts
of the admin's templates written in Python (iopclinic/admin_html.py says why)."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from iopclinic import admin_html

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_fieldset(context: template.Context) -> SafeString:
    """Called from ``admin/includes/fieldset.html`` with the context Django's
    ``{% include ... with heading_level=... prefix=... %}`` gives it."""
    get: Any = context.get
    return admin_html.fieldset_html(
        context["fieldset"],
        heading_level=get("heading_level"),
        prefix=get("prefix", ""),
        id_prefix=get("id_prefix", ""),
        id_suffix=get("id_suffix", ""),
    )


@register.simple_tag(takes_context=True)
def tabular_rows(context: template.Context) -> SafeString:
    """The rows of ``admin/edit_inline/tabular.html``'s table."""
    return admin_html.tabular_rows(context["inline_admin_formset"])


@register.simple_tag(takes_context=True)
def admin_app_list(context: template.Context) -> SafeString:
    """``admin/app_list.html``, included by the index and the navigation sidebar
    with ``app_list`` and ``show_changelinks``."""
    request = context.get("request")
    return admin_html.app_list_html(
        context.get("app_list"),
        request_path=request.path if request is not None else "",
        show_changelinks=bool(context.get("show_changelinks")),
    )
