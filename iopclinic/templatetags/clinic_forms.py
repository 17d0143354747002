"""``{% admin_fieldset %}``: the admin's fieldset template, written in Python
(iopclinic/forms.py says why)."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from iopclinic import forms

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_fieldset(context: template.Context) -> SafeString:
    """Called from ``admin/includes/fieldset.html`` with the context Django's
    ``{% include ... with heading_level=... prefix=... %}`` gives it."""
    get: Any = context.get
    return forms.fieldset_html(
        context["fieldset"],
        heading_level=get("heading_level"),
        prefix=get("prefix", ""),
        id_prefix=get("id_prefix", ""),
        id_suffix=get("id_suffix", ""),
    )
