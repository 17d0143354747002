"""Account events in the access audit: sign-ins and sign-outs, failed sign-ins and
lockouts, and every change to what a staff account may do (its permissions, its roles,
its superuser, staff and active flags), with who made the change when a request is
being served. Connected in IopclinicConfig.ready()."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.http import HttpRequest
from simple_history.models import HistoricalRecords

from programs.models import EmergencyAccess

from .models import AccessAction, AccessEvent, AccessOutcome
from .sites import client_ip

# The flags of a staff account that change what it may do.
ACCOUNT_FLAGS = ("is_superuser", "is_staff", "is_active")


def current_request() -> HttpRequest | None:
    """The request being served (django-simple-history's middleware keeps it)."""
    return getattr(HistoricalRecords.context, "request", None)


def _record_account_event(
    *,
    action: AccessAction,
    outcome: AccessOutcome,
    model_name: str,
    object_id: Any = "",
    detail: str = "",
    request: HttpRequest | None = None,
    user: Any = None,
) -> None:
    request = request or current_request()
    if user is None and request is not None:
        user = getattr(request, "user", None)
    AccessEvent.record(
        user=user,
        action=action,
        app_label="auth",
        model_name=model_name,
        object_id=object_id,
        page=(
            (request.resolver_match.url_name or "")
            if request is not None and request.resolver_match
            else ""
        ),
        outcome=outcome,
        ip_address=client_ip(request) if request is not None else None,
        detail=detail,
    )


def on_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _record_account_event(
        action=AccessEvent.Action.LOGIN,
        outcome=AccessEvent.Outcome.COMPLETED,
        model_name="user",
        object_id=user.pk,
        request=request,
        user=user,
    )


def on_logged_out(
    sender: Any, request: HttpRequest, user: Any = None, **kwargs: Any
) -> None:
    if user is None:
        return
    _record_account_event(
        action=AccessEvent.Action.LOGOUT,
        outcome=AccessEvent.Outcome.COMPLETED,
        model_name="user",
        object_id=user.pk,
        request=request,
        user=user,
    )


def _typed_username(credentials: dict[str, Any]) -> str:
    # Django has already replaced the password with asterisks; only the username
    # typed is kept, never anything else from the form.
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get(
        "username", ""
    )
    return str(username)[:150]


def on_login_failed(
    sender: Any,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    _record_account_event(
        action=AccessEvent.Action.LOGIN_FAILED,
        outcome=AccessEvent.Outcome.REFUSED,
        model_name="user",
        detail=f"username typed: {_typed_username(credentials)}",
        request=request,
    )


def on_locked_out(
    sender: Any,
    request: HttpRequest | None = None,
    username: str | None = None,
    **kwargs: Any,
) -> None:
    _record_account_event(
        action=AccessEvent.Action.LOCKOUT,
        outcome=AccessEvent.Outcome.REFUSED,
        model_name="user",
        detail=f"username typed: {(username or '')[:150]}",
        request=request,
    )


def _names(model: Any, pks: set[Any]) -> str:
    if model is Permission:
        return ", ".join(
            sorted(
                f"{app}.{codename}"
                for app, codename in Permission.objects.filter(pk__in=pks).values_list(
                    "content_type__app_label", "codename"
                )
            )
        )
    if model is Group:
        return ", ".join(
            sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))
        )
    return ", ".join(
        sorted(
            model._default_manager.filter(pk__in=pks).values_list(
                model.USERNAME_FIELD, flat=True
            )
        )
    )


VERBS = {"post_add": "added", "post_remove": "removed", "pre_clear": "removed"}


def _on_m2m_changed(
    *,
    action_name: str,
    instance: Any,
    reverse: bool,
    model: Any,
    pk_set: set[Any] | None,
    field: str,
    audit_action: AccessAction,
) -> None:
    """One audit event per account or group whose permissions or roles changed."""
    if action_name not in VERBS:
        return
    if action_name == "pre_clear":
        # The rows about to be removed, named while they still exist.
        pk_set = set(getattr(instance, field).values_list("pk", flat=True))
    if not pk_set:
        return
    verb = VERBS[action_name]
    if not reverse:
        _record_account_event(
            action=audit_action,
            outcome=AccessEvent.Outcome.COMPLETED,
            model_name=instance._meta.model_name,
            object_id=instance.pk,
            detail=f"{verb}: {_names(model, pk_set)}",
        )
        return
    # From the other side (group.user_set.add(...)): one event per changed row.
    label = _names(type(instance), {instance.pk})
    for pk in sorted(pk_set):
        _record_account_event(
            action=audit_action,
            outcome=AccessEvent.Outcome.COMPLETED,
            model_name=model._meta.model_name,
            object_id=pk,
            detail=f"{verb}: {label}",
        )


def on_user_groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, **kwargs: Any
) -> None:
    _on_m2m_changed(
        action_name=action,
        instance=instance,
        reverse=reverse,
        model=model,
        pk_set=kwargs.get("pk_set"),
        field="user_set" if reverse else "groups",
        audit_action=AccessEvent.Action.ROLE_CHANGE,
    )


def on_user_permissions_changed(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, **kwargs: Any
) -> None:
    _on_m2m_changed(
        action_name=action,
        instance=instance,
        reverse=reverse,
        model=model,
        pk_set=kwargs.get("pk_set"),
        field="user_set" if reverse else "user_permissions",
        audit_action=AccessEvent.Action.PERMISSION_CHANGE,
    )


def on_group_permissions_changed(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, **kwargs: Any
) -> None:
    _on_m2m_changed(
        action_name=action,
        instance=instance,
        reverse=reverse,
        model=model,
        pk_set=kwargs.get("pk_set"),
        field="group_set" if reverse else "permissions",
        audit_action=AccessEvent.Action.PERMISSION_CHANGE,
    )


def remember_account_flags(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Before a save that may change an account's flags, note the stored ones."""
    update_fields = kwargs.get("update_fields")
    if kwargs.get("raw") or instance.pk is None:
        return
    if update_fields is not None and not set(ACCOUNT_FLAGS) & set(update_fields):
        return  # e.g. the last_login stamp of every sign-in
    instance._audit_flags_before = (
        sender._default_manager.filter(pk=instance.pk).values(*ACCOUNT_FLAGS).first()
    )


def record_account_flags(
    sender: Any, instance: Any, created: bool = False, **kwargs: Any
) -> None:
    before = instance.__dict__.pop("_audit_flags_before", None)
    if created and not kwargs.get("raw"):
        granted = [f for f in ("is_superuser", "is_staff") if getattr(instance, f)]
        changed = (
            ["new account: " + ", ".join(f"{flag} on" for flag in granted)]
            if granted
            else []
        )
    elif before is not None:
        changed = [
            f"{flag} {'on' if getattr(instance, flag) else 'off'}"
            for flag in ACCOUNT_FLAGS
            if bool(getattr(instance, flag)) != bool(before[flag])
        ]
    else:
        return
    if changed:
        _record_account_event(
            action=AccessEvent.Action.PERMISSION_CHANGE,
            outcome=AccessEvent.Outcome.COMPLETED,
            model_name="user",
            object_id=instance.pk,
            detail=", ".join(changed),
        )


def on_emergency_access_saved(
    sender: Any, instance: Any, created: bool = False, **kwargs: Any
) -> None:
    """A "break the glass" request is an audit event of its own, naming the client."""
    if not created or kwargs.get("raw"):
        return
    request = current_request()
    AccessEvent.record(
        user=instance.user,
        action=AccessEvent.Action.EMERGENCY_ACCESS,
        app_label="programs",
        model_name="emergencyaccess",
        object_id=instance.pk,
        page=(
            (request.resolver_match.url_name or "")
            if request is not None and request.resolver_match
            else ""
        ),
        outcome=AccessEvent.Outcome.COMPLETED,
        client_id=instance.client_id,
        ip_address=client_ip(request) if request is not None else None,
        emergency_access_id=instance.pk,
        detail=f"until {instance.expires_at:%Y-%m-%d %H:%M %Z}",
    )


def connect() -> None:
    """Connect the handlers (once: every connection has a dispatch_uid)."""
    User = get_user_model()
    user_logged_in.connect(on_logged_in, dispatch_uid="audit_logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="audit_logged_out")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit_locked_out")
    m2m_changed.connect(
        on_user_groups_changed,
        sender=User.groups.through,
        dispatch_uid="audit_user_groups",
    )
    m2m_changed.connect(
        on_user_permissions_changed,
        sender=User.user_permissions.through,
        dispatch_uid="audit_user_permissions",
    )
    m2m_changed.connect(
        on_group_permissions_changed,
        sender=Group.permissions.through,
        dispatch_uid="audit_group_permissions",
    )
    post_save.connect(
        on_emergency_access_saved,
        sender=EmergencyAccess,
        dispatch_uid="audit_emergency_access",
    )
    pre_save.connect(remember_account_flags, sender=User, dispatch_uid="audit_flags")
    post_save.connect(record_account_flags, sender=User, dispatch_uid="audit_flags")
