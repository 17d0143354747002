from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


class AccessAction(models.TextChoices):
    VIEW = "view", "viewed"
    ADD = "add", "added"
    CHANGE = "change", "changed"
    DELETE_ATTEMPT = "delete_attempt", "delete attempted"
    EXPORT = "export", "exported"
    PRINT = "print", "printed"
    LIST = "list", "listed or searched"
    LOGIN = "login", "signed in"
    LOGOUT = "logout", "signed out"
    LOGIN_FAILED = "login_failed", "sign-in failed"
    LOCKOUT = "lockout", "locked out"
    PERMISSION_CHANGE = "permission_change", "permissions changed"
    ROLE_CHANGE = "role_change", "role membership changed"
    EMERGENCY_ACCESS = "emergency_access", "emergency access requested"
    # Two-factor sign-in (iopclinic/signin.py): about the user account in object_id.
    SECOND_FACTOR = "second_factor", "second factor checked"
    ENROL_2FA = "enrol_2fa", "set up two-factor sign-in"
    RESET_2FA = "reset_2fa", "reset two-factor sign-in"


class AccessOutcome(models.TextChoices):
    SHOWN = "shown", "shown"
    COMPLETED = "completed", "completed"
    INVALID = "invalid", "rejected as invalid input"
    REFUSED = "refused", "refused"


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    """Append-only, like the model: the bulk ``update()`` and ``delete()`` refuse."""

    def update(self, **kwargs: Any) -> int:
        raise ValueError("Access events are append-only: an event is never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValueError("Access events are append-only: an event is never deleted.")

    def for_record(
        self, app_label: str, model_name: str, object_id: str
    ) -> AccessEventQuerySet:
        return self.filter(
            app_label=app_label, model_name=model_name, object_id=object_id
        )

    def refused(self) -> AccessEventQuerySet:
        return self.filter(outcome=AccessEvent.Outcome.REFUSED)

    def searched_for(self, term: str) -> AccessEventQuerySet:
        """List and search pages where someone searched for ``term`` (compared by its
        keyed hash: the term itself is never stored)."""
        return self.filter(search_hash=search_hash(term))


def search_hash(term: str) -> str:
    """The keyed hash (HMAC-SHA256 from SECRET_KEY) of a search term, normalised so
    "Smith " and "smith" match; "" for no term."""
    normalised = " ".join(term.split()).casefold()
    if not normalised:
        return ""
    return salted_hmac(
        "iopclinic.AccessEvent.search_hash", normalised, algorithm="sha256"
    ).hexdigest()


class AccessEvent(models.Model):
    """One staff member's look at, change to or export of a record (HIPAA audit
    controls).

    The admin site writes one for every change, history, print and delete page of a
    record and every list or search page (iopclinic/sites.py), so a model registered
    later is covered without code of its own; sign-ins, lockouts and changes to
    permissions and roles are written by signal handlers (iopclinic/signals.py).
    Events are never edited or deleted (DOMAIN.md section 7: keep the record 6 years):
    the model and its queryset refuse, and on PostgreSQL a trigger refuses UPDATE and
    DELETE (migration 0005).
    """

    Action = AccessAction
    Outcome = AccessOutcome

    occurred_at = models.DateTimeField("when", default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="access_events",
        null=True,
        blank=True,
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    app_label = models.CharField(max_length=100)
    model_name = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64, blank=True)
    client = models.ForeignKey(
        "intake.Client",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        # The (client, occurred_at) index below serves every lookup by client.
        db_index=False,
        help_text="The client the record belongs to, if any.",
    )
    page = models.CharField(
        max_length=100, blank=True, help_text="The admin page that was asked for."
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    ip_address = models.GenericIPAddressField(
        "IP address", null=True, blank=True, unpack_ipv4=True
    )
    search_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Keyed hash of the search term typed on a list page; the term "
        "itself is never stored.",
    )
    emergency_access = models.ForeignKey(
        "programs.EmergencyAccess",
        on_delete=models.PROTECT,
        related_name="access_events",
        null=True,
        blank=True,
        help_text="Set when the page was seen under emergency access.",
    )
    detail = models.CharField(
        max_length=200,
        blank=True,
        help_text="What changed, for sign-in, permission and role events (never "
        "client data).",
    )

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # Not about access events: the manager reports (iopclinic/reports/) have no
        # model of their own, and the app that serves them holds their permission.
        permissions = [("view_reports", "Can view the manager reports")]
        indexes = [
            models.Index(
                fields=["app_label", "model_name", "object_id", "occurred_at"],
                name="accessevent_record_idx",
            ),
            models.Index(fields=["user", "occurred_at"], name="accessevent_user_idx"),
            models.Index(
                fields=["client", "occurred_at"], name="accessevent_client_idx"
            ),
            models.Index(
                fields=["search_hash", "occurred_at"],
                name="accessevent_search_idx",
                condition=~models.Q(search_hash=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AccessAction.values),
                name="accessevent_action_known",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=AccessOutcome.values),
                name="accessevent_outcome_known",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_action_display()} {self.app_label}.{self.model_name} "
            f"#{self.object_id} ({self.get_outcome_display()})"
        )

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise ValueError(
                "Access events are append-only: an event is never changed."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Access events are append-only: an event is never deleted.")

    @classmethod
    def record(
        cls,
        *,
        user: AbstractBaseUser | AnonymousUser | None,
        action: AccessAction,
        app_label: str,
        model_name: str,
        object_id: Any = "",
        page: str = "",
        outcome: AccessOutcome,
        client_id: int | None = None,
        ip_address: str | None = None,
        search_term: str = "",
        emergency_access_id: int | None = None,
        detail: str = "",
    ) -> AccessEvent:
        """Write one access event; raises if it cannot be written, so nothing is
        shown."""
        return cls.objects.create(
            user=user if user is not None and user.is_authenticated else None,
            action=action,
            app_label=app_label,
            model_name=model_name,
            # As typed, but a control character (a NUL cannot be stored in a
            # PostgreSQL text column) is written as its escape.
            object_id=printable(str(object_id))[:64],
            page=page[:100],
            outcome=outcome,
            client_id=client_id,
            ip_address=ip_address,
            search_hash=search_hash(search_term),
            emergency_access_id=emergency_access_id,
            detail=detail[:200],
        )


def printable(text: str) -> str:
    """``text`` with each non-printable character written as its Python escape."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


# --- Rollups for the manager reports (iopclinic/reports/rollups.py) ---------------
# Derived tables, rebuilt whole by ``manage.py refresh_report_rollups``: attendance has
# millions of rows, and a report reads these instead (each row carries when it was
# built, shown on the page as "data as of"). Plain ids, not foreign keys: a rebuild
# replaces every row, and nothing here is a record of its own.


class AttendanceRollup(models.Model):
    """Group-session attendance of one enrollment in one track in one month."""

    enrollment_id = models.IntegerField()
    track_id = models.IntegerField()
    month = models.DateField(help_text="The first day of the month.")
    scheduled = models.PositiveIntegerField(
        help_text="Sessions on the roll, not cancelled by the program."
    )
    attended = models.PositiveIntegerField()
    unexcused = models.PositiveIntegerField()
    excused = models.PositiveIntegerField()
    refreshed_at = models.DateTimeField()

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(fields=["month", "track_id"], name="rollup_attendance_idx")
        ]

    def __str__(self) -> str:
        return f"Attendance of enrollment {self.enrollment_id}, {self.month:%Y-%m}"


class ClientWeekRollup(models.Model):
    """One enrollment's whole ISO week in treatment, against its program minimum."""

    enrollment_id = models.IntegerField()
    track_id = models.IntegerField(help_text="The track on the week's Monday.")
    week = models.DateField(help_text="The Monday.")
    month = models.DateField(help_text="The first day of the Monday's month.")
    minutes = models.PositiveIntegerField(help_text="Minutes attended, all services.")
    days = models.PositiveSmallIntegerField(help_text="Days with a service attended.")
    meets_minimum = models.BooleanField()
    refreshed_at = models.DateTimeField()

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(fields=["month", "track_id"], name="rollup_client_week_idx")
        ]

    def __str__(self) -> str:
        return f"Week of {self.week} of enrollment {self.enrollment_id}"


class SessionRollup(models.Model):
    """Group sessions of one service in one track in one month."""

    track_id = models.IntegerField()
    month = models.DateField(help_text="The first day of the month.")
    service = models.CharField(max_length=30)
    held = models.PositiveIntegerField()
    cancelled = models.PositiveIntegerField()
    refreshed_at = models.DateTimeField()

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(fields=["month", "track_id"], name="rollup_session_idx")
        ]

    def __str__(self) -> str:
        return f"{self.service} sessions, {self.month:%Y-%m}"
