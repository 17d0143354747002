"""The clinic's admin site: branding, the index grouped by workflow, and the access
audit.

It is the default site (iopclinic/apps.py), so every app registers on
``django.contrib.admin.site`` and gets all of this without importing iopclinic.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, reverse
from django.utils.functional import lazy

from .models import AccessAction, AccessEvent, AccessOutcome

_ViewT = TypeVar("_ViewT", bound=Callable[..., HttpResponseBase])

# Index sections in the order of a client's journey; apps not named here go last.
SECTIONS: list[tuple[str, list[str]]] = [
    ("Intake", ["intake"]),
    ("Programs & treatment", ["programs"]),
    ("Discharge", ["discharge"]),
    ("Reports", ["reports"]),
    ("Staff & access", ["auth", "iopclinic", "axes"]),
]

# ModelAdmin views whose visit is a look at (or a change to) one record.
AUDITED_VIEWS: dict[str, AccessAction] = {
    "change_view": AccessEvent.Action.VIEW,
    "history_view": AccessEvent.Action.VIEW,
    "history_form_view": AccessEvent.Action.VIEW,  # django-simple-history's one version
    "delete_view": AccessEvent.Action.DELETE_ATTEMPT,
    "add_view": AccessEvent.Action.ADD,
    "print_view": AccessEvent.Action.PRINT,
}


# Pages that only show a record. django-simple-history's version page saves a POSTed
# form as the record even with revert disabled (it only hides the button), and checks
# view *or* change permission: a view-only user could overwrite the record through it.
READ_ONLY_VIEWS = {"history_form_view"}


def _clinic_name() -> str:
    return settings.CLINIC_NAME


class ClinicAdminSite(admin.AdminSite):
    site_header = lazy(_clinic_name, str)()
    site_title = lazy(_clinic_name, str)()
    index_title = "Today's work"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        # Deleting many clinical records with one click is never right (DEVELOPERS.md).
        self.disable_action("delete_selected")

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        # These import the apps' models: not at load time.
        from programs.availability import track_availability

        from .worklist import todays_work

        context = {
            "todays_work": todays_work(request),
            "availability": track_availability(),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        from .reports.views import reports_app

        app_list += reports_app(request)
        by_label = {app["app_label"]: app for app in app_list}
        sections = []
        for name, labels in SECTIONS:
            apps = [by_label.pop(label) for label in labels if label in by_label]
            if not apps:
                continue
            section = {**apps[0], "name": name, "models": []}
            for app in apps:
                section["models"].extend(app["models"])
            sections.append(section)
        return sections + list(by_label.values())

    def get_urls(self) -> list[URLResolver | URLPattern]:
        # The manager reports (iopclinic/reports/): before the admin's catch-all.
        from .reports.views import report_urls

        return [*report_urls(self), *super().get_urls()]

    def admin_view(self, view: _ViewT, cacheable: bool = False) -> _ViewT:
        """Wrap every admin view; a ModelAdmin's pages about one record write an
        AccessEvent: the standard ones named in AUDITED_VIEWS, and any custom view that
        takes an ``object_id``."""
        protected = super().admin_view(view, cacheable)
        model_admin = getattr(view, "__self__", None)
        if not isinstance(model_admin, admin.ModelAdmin):
            return protected
        view_name = getattr(view, "__name__", "")
        named_action = AUDITED_VIEWS.get(view_name)
        opts = model_admin.model._meta

        @wraps(view)
        def audited(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            action = named_action or (
                AccessEvent.Action.VIEW if "object_id" in kwargs else None
            )
            if action is None or not request.user.is_authenticated:
                # Not about one record, or redirected to the login page.
                response = protected(request, *args, **kwargs)
                if view_name == "changelist_view":
                    _explain_dropped_filter(request, response)
                return response
            event = {
                "user": request.user,
                "action": action,
                "app_label": opts.app_label,
                "model_name": opts.model_name,
                # simple_history's version page passes the id positionally (re_path).
                "object_id": kwargs.get("object_id", args[0] if args else ""),
                "page": (
                    request.resolver_match.url_name if request.resolver_match else ""
                ),
            }
            try:
                if view_name in READ_ONLY_VIEWS and request.method == "POST":
                    raise PermissionDenied("A past version is shown, never saved.")
                if view_name in HISTORY_VIEWS:
                    # django-simple-history looks ids up as typed: "abc" was a 500.
                    # The version page passes (object id, version id) positionally.
                    _valid_id(model_admin.model, event["object_id"])
                    for version_id in args[1:]:
                        _valid_id(model_admin.model.history.model, version_id)
                response = protected(request, *args, **kwargs)
            except (PermissionDenied, Http404):
                AccessEvent.record(**event, outcome=AccessEvent.Outcome.REFUSED)
                raise
            if request.method == "POST" and action == AccessEvent.Action.VIEW:
                event["action"] = AccessEvent.Action.CHANGE
            AccessEvent.record(**event, outcome=_outcome(request, response))
            return response

        return cast(_ViewT, audited)


HISTORY_VIEWS = {"history_view", "history_form_view"}


def _explain_dropped_filter(request: HttpRequest, response: HttpResponseBase) -> None:
    """A list whose filter could not be applied (a date that is not one, say) is
    shown again without it at ``?e=1``, silently: say so, or the unfiltered list
    reads as the filtered one."""
    if response.status_code == 200 and ERROR_FLAG in request.GET:
        messages.error(
            request,
            "A filter in the page's address could not be applied (a value of the "
            "wrong kind): the list below is not filtered.",
        )


def _valid_id(model: Any, raw: Any) -> None:
    """404 for an id in the URL that cannot be one of ``model``'s primary keys."""
    try:
        model._meta.pk.to_python(unquote(str(raw)))
    except (ValidationError, ValueError) as error:
        raise Http404("No such record.") from error


def _outcome(request: HttpRequest, response: HttpResponseBase) -> AccessOutcome:
    if response.status_code in (403, 404):
        return AccessEvent.Outcome.REFUSED
    if request.method == "POST":
        # The admin redirects after a save and re-renders the form (200) on errors;
        # for a row the user may not reach it redirects to the index instead.
        if response.status_code == 302 and response.get("Location") != reverse(
            "admin:index"
        ):
            return AccessEvent.Outcome.COMPLETED
        if response.status_code == 302:
            return AccessEvent.Outcome.REFUSED
        return AccessEvent.Outcome.INVALID
    if response.status_code == 200:
        return AccessEvent.Outcome.SHOWN
    # A GET that redirects (e.g. to the index for an id that does not exist) shows
    # nothing.
    return AccessEvent.Outcome.REFUSED
