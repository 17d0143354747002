"""Row-level access in the admin: one rule, applied to every route of a model.

Model permissions say what a role may do with a kind of record; the caseload rule says
which rows. A ModelAdmin scopes its rows in ``get_queryset``; ``RowScopedAdmin`` makes
every object-level permission check ask that same queryset, which closes the routes
that do not go through ``get_queryset``: django-simple-history's history page falls
back to the history table for a row the queryset hides, and its version pages
(``history/<id>/``) read the history table directly, guarded only by
``has_view_permission(request, obj)``. The enrollment a form links a row to is
chosen from the same caseload.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from intake.admin.widgets import AutocompleteMixin

from ..models import Enrollment


def in_caseload(queryset: QuerySet[Any], user: Any, enrollment_path: str) -> Any:
    """``queryset`` limited to rows whose enrollment ``user`` may see
    (``Enrollment.objects.visible_to``); ``enrollment_path`` is the lookup from the
    row to its enrollment ("" when the rows are enrollments)."""
    if user.has_perm("programs.view_every_enrollment"):
        return queryset
    visible = Enrollment.objects.visible_to(user)
    if not enrollment_path:
        return queryset.filter(pk__in=visible.values("pk"))
    return queryset.filter(**{f"{enrollment_path}__in": visible.values("pk")})


class RowScopedAdmin(AutocompleteMixin, SimpleHistoryAdmin):
    """Object-level permissions that agree with ``get_queryset`` on every route."""

    def may_reach(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None or obj.pk is None:
            return True
        # Asked several times per page: once per request and row is enough.
        cache = self._rows_in_reach(request)
        key = (self.model._meta.label, obj.pk)
        if key not in cache:
            cache[key] = self.get_queryset(request).filter(pk=obj.pk).exists()
        return bool(cache[key])

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        # Django reads the page's row through get_queryset, the very rows
        # may_reach asks about: a row found here is in reach, without asking again.
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            self._rows_in_reach(request)[(self.model._meta.label, obj.pk)] = True
        return obj

    def _rows_in_reach(self, request: HttpRequest) -> dict[tuple[str, Any], bool]:
        return request.__dict__.setdefault("_rows_in_reach", {})

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.related_model is Enrollment and "queryset" not in kwargs:
            # The form's enrollment choices are the caseload too: an id typed into
            # the POST of an add or change page cannot reach past it.
            kwargs["queryset"] = Enrollment.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self.may_reach(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self.may_reach(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self.may_reach(
            request, obj
        )


class CaseloadAdmin(RowScopedAdmin):
    """A clinical record that belongs to an enrollment: therapists and psychiatrists
    reach only their caseload's rows, on the list, change, history, each history
    version, delete and autocomplete (which all use ``get_queryset``) alike."""

    enrollment_path = "enrollment"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return in_caseload(queryset, request.user, self.enrollment_path)
