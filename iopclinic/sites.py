"""The clinic's admin site: branding, the index grouped by workflow, and the access
audit.

It is the default site (iopclinic/apps.py), so every app registers on
``django.contrib.admin.site`` and gets all of this without importing iopclinic.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial, wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ERROR_FLAG, SEARCH_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import IntegerField, OuterRef, Subquery, Value
from django.http import Http404, HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.functional import lazy

from .models import AccessAction, AccessEvent, AccessOutcome

logger = logging.getLogger(__name__)

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

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, and past the second factor where it is required (signin.py)."""
        from .signin import two_factor_satisfied

        return super().has_permission(request) and two_factor_satisfied(request)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        # The manager reports (iopclinic/reports/) and the second factor's pages:
        # before the admin's catch-all. The latter are not admin_view()s, which would
        # send an unverified user back to them.
        from .reports.views import report_urls
        from .signin import enrol_view, sign_out_view, verify_view

        return [
            path(
                "two-factor/verify/",
                partial(verify_view, site=self),
                name="two_factor_verify",
            ),
            path(
                "two-factor/enrol/",
                partial(enrol_view, site=self),
                name="two_factor_enrol",
            ),
            path(
                "two-factor/sign-out/",
                partial(sign_out_view, site=self),
                name="two_factor_sign_out",
            ),
            *report_urls(self),
            *super().get_urls(),
        ]

    def admin_view(self, view: _ViewT, cacheable: bool = False) -> _ViewT:
        """Wrap every admin view; a ModelAdmin's pages about one record write an
        AccessEvent: the standard ones named in AUDITED_VIEWS, and any custom view that
        takes an ``object_id``; so do its list and search pages and the autocomplete
        searches."""
        protected = super().admin_view(view, cacheable)
        view_name = getattr(view, "__name__", "")
        if getattr(view, "__self__", None) is self and view_name == "autocomplete_view":
            return cast(_ViewT, _audited_autocomplete(protected))
        model_admin = getattr(view, "__self__", None)
        if not isinstance(model_admin, admin.ModelAdmin):
            return protected
        named_action = AUDITED_VIEWS.get(view_name)
        model = model_admin.model
        opts = model._meta

        @wraps(view)
        def audited(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            if view_name == "changelist_view":
                action: AccessAction | None = (
                    AccessEvent.Action.LIST
                    if request.method in ("GET", "HEAD")
                    else AccessEvent.Action.CHANGE  # an admin action on the rows
                )
            else:
                action = named_action or (
                    AccessEvent.Action.VIEW if "object_id" in kwargs else None
                )
            if action is None or not request.user.is_authenticated:
                # Not about records, or redirected to the login page.
                return protected(request, *args, **kwargs)
            event: dict[str, Any] = {
                "user": request.user,
                "action": action,
                "app_label": opts.app_label,
                "model_name": opts.model_name,
                # simple_history's version page passes the id positionally (re_path).
                "object_id": kwargs.get("object_id", args[0] if args else ""),
                "page": (
                    request.resolver_match.url_name if request.resolver_match else ""
                ),
                "ip_address": client_ip(request),
            }
            if view_name == "changelist_view":
                event["search_term"] = request.GET.get(SEARCH_VAR, "")
                event["emergency_access_id"] = _grant_in_use(model, request.user)
            elif action == AccessEvent.Action.ADD:
                # The form's choices (an enrollment, a client) include the client of
                # the grant, as a list does.
                event["emergency_access_id"] = _grant_in_use(model, request.user)
            elif event["object_id"]:
                event["client_id"], event["emergency_access_id"] = _client_of(
                    model, event["object_id"], request.user
                )
            # A change whose audit cannot be written is not kept either.
            guard = transaction.atomic() if request.method == "POST" else nullcontext()
            try:
                with guard:
                    if view_name in READ_ONLY_VIEWS and request.method == "POST":
                        raise PermissionDenied("A past version is shown, never saved.")
                    if view_name in HISTORY_VIEWS:
                        # django-simple-history looks ids up as typed: "abc" was a
                        # 500. The version page passes (object id, version id)
                        # positionally.
                        _valid_id(model, event["object_id"])
                        for version_id in args[1:]:
                            _valid_id(model.history.model, version_id)
                    response = protected(request, *args, **kwargs)
                    if view_name == "changelist_view":
                        _explain_dropped_filter(request, response)
                    if request.method == "POST" and action == AccessEvent.Action.VIEW:
                        event["action"] = AccessEvent.Action.CHANGE
                    write_event(event, _outcome(request, response))
            except (PermissionDenied, Http404):
                try:
                    write_event(event, AccessEvent.Outcome.REFUSED)
                except AuditWriteFailed:
                    return audit_unavailable(request)
                raise
            except AuditWriteFailed:
                return audit_unavailable(request)
            return response

        return cast(_ViewT, audited)


class AuditWriteFailed(Exception):
    """The access event could not be written: the page must not be shown."""


def write_event(event: dict[str, Any], outcome: AccessOutcome) -> None:
    """AccessEvent.record, raising AuditWriteFailed if the database refuses."""
    try:
        AccessEvent.record(**event, outcome=outcome)
    except DatabaseError as error:
        raise AuditWriteFailed from error


def audit_unavailable(request: HttpRequest) -> TemplateResponse:
    """A 503 page in place of a page whose access could not be recorded."""
    # The exception's text may quote the row: only its kind is logged.
    error = sys.exc_info()[1]
    cause = type(error.__cause__ or error).__name__ if error else "unknown"
    logger.error("Access audit write failed (%s); the page was not shown.", cause)
    return TemplateResponse(
        request,
        "admin/audit_unavailable.html",
        {
            "title": "The page could not be shown",
            "site_header": settings.CLINIC_NAME,
            "site_title": settings.CLINIC_NAME,
        },
        status=503,
    )


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from: REMOTE_ADDR, or behind a trusted proxy
    (settings.AUDIT_TRUST_X_FORWARDED_FOR) the last X-Forwarded-For entry, the one
    that proxy appended. Never the client-supplied part of the header."""
    candidate = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if getattr(settings, "AUDIT_TRUST_X_FORWARDED_FOR", False) and forwarded:
        candidate = forwarded.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _needs_grant(user: Any) -> bool:
    return not user.has_perm("programs.view_every_enrollment")


def _client_of(model: Any, object_id: Any, user: Any) -> tuple[Any, Any]:
    """(client id, emergency access id) of one record, in one query: the client
    through the model's ``audit_client_path``, and the user's emergency access to
    that client in force now, if they need one to see it."""
    from programs.models import EmergencyAccess

    path = getattr(model, "audit_client_path", None)
    if path is None:
        return None, None
    try:
        pk = model._meta.pk.to_python(unquote(str(object_id)))
    except (ValidationError, ValueError):
        return None, None
    rows = model._base_manager.filter(pk=pk)
    grant: Any = Value(None, output_field=IntegerField())
    if _needs_grant(user):
        grant = Subquery(
            EmergencyAccess.objects.active()
            .filter(user=user.pk, client=OuterRef(path))
            .values("pk")[:1]
        )
    found = rows.annotate(_grant=grant).values_list(path, "_grant").first()
    return found if found is not None else (None, None)


def _grant_in_use(model: Any, user: Any) -> int | None:
    """The user's emergency access in force now, for a list of client records."""
    from programs.models import EmergencyAccess

    if getattr(model, "audit_client_path", None) is None or not _needs_grant(user):
        return None
    return (
        EmergencyAccess.objects.active()
        .filter(user=user.pk)
        .values_list("pk", flat=True)
        .first()
    )


def _autocomplete_target(request: HttpRequest) -> Any:
    """The model an autocomplete request searches, None if the parameters name
    none."""
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist

    try:
        source = apps.get_model(
            request.GET.get("app_label", ""), request.GET.get("model_name", "")
        )
        return source._meta.get_field(request.GET.get("field_name", "")).related_model
    except (LookupError, ValueError, FieldDoesNotExist):
        return None


def _audited_autocomplete(protected: Callable[..., Any]) -> Callable[..., Any]:
    """The autocomplete search behind a select box is a search too: logged with the
    term hashed, like a list page's."""

    @wraps(protected)
    def audited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return protected(request, *args, **kwargs)
        event: dict[str, Any] = {
            "user": request.user,
            "action": AccessEvent.Action.LIST,
            "app_label": request.GET.get("app_label", "")[:100],
            "model_name": request.GET.get("model_name", "")[:100],
            "page": "autocomplete",
            "detail": f"field {request.GET.get('field_name', '')}"[:200],
            "ip_address": client_ip(request),
            "search_term": request.GET.get("term", ""),
        }
        event["emergency_access_id"] = _grant_in_use(
            _autocomplete_target(request), request.user
        )
        try:
            response = protected(request, *args, **kwargs)
        except (PermissionDenied, Http404):
            try:
                write_event(event, AccessEvent.Outcome.REFUSED)
            except AuditWriteFailed:
                return audit_unavailable(request)
            raise
        try:
            write_event(event, _outcome(request, response))
        except AuditWriteFailed:
            return audit_unavailable(request)
        return response

    return audited


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
