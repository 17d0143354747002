"""Emergency access ("break the glass") in the admin: a clinician requests it for one
client by MRN with a reason; the privacy officer reviews every grant afterwards."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from simple_history.admin import SimpleHistoryAdmin

from intake.models import Client

from ..models import EmergencyAccess, Enrollment
from ..pagination import EstimatedCountPaginator

HOURS = [(hours, f"{hours} hour{'s' if hours > 1 else ''}") for hours in (1, 2, 3, 4)]
REVIEWED_AS_JUSTIFIED = "Reviewed: the reason given and the pages seen agree."


class EmergencyAccessRequestForm(forms.ModelForm):
    """Who the access is for is typed as an MRN: outside their caseload a clinician
    cannot browse the client list."""

    mrn = forms.CharField(
        label="Client's MRN",
        max_length=16,
        help_text="The medical record number of the client you need to see.",
    )
    hours = forms.TypedChoiceField(
        label="For",
        choices=HOURS,
        coerce=int,
        initial=4,
        help_text="Emergency access ends by itself after this time (4 hours at most).",
    )

    # Set by the admin (EmergencyAccessAdmin.get_form): the requesting user.
    requested_by: Any = None

    class Meta:
        model = EmergencyAccess
        fields = ["reason"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mrn = (cleaned.get("mrn") or "").strip()
        client = Client.objects.filter(mrn=mrn).first() if mrn else None
        if mrn and client is None:
            self.add_error("mrn", "No client has this MRN.")
        elif client is not None and (
            Enrollment.objects.visible_to(self.requested_by)
            .filter(client=client)
            .exists()
        ):
            self.add_error(
                "mrn",
                "This client is already in your caseload (or you already hold "
                "emergency access to them): open their record directly.",
            )
        now = timezone.now()
        self.instance.user = self.requested_by
        if client is not None:
            self.instance.client = client
        self.instance.started_at = now
        self.instance.expires_at = now + datetime.timedelta(
            hours=cleaned.get("hours") or 1
        )
        return cleaned


class ReviewFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "reviewed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "To review"), ("yes", "Reviewed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() == "no":
            return queryset.filter(reviewed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(reviewed_at__isnull=False)
        return queryset


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(SimpleHistoryAdmin):
    """Clinicians see their own grants and request new ones; whoever may change a
    grant (the privacy officer) sees all of them, unreviewed first, and reviews."""

    list_display = [
        "started_at",
        "user",
        "client",
        "expires_at",
        "state",
        "pages_seen",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = [ReviewFilter, "started_at"]
    search_fields = ["=client__mrn", "=user__username"]
    list_select_related = ["user", "client", "reviewed_by"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # Unreviewed first, then the newest (index emergency_review_idx).
    ordering = [F("reviewed_at").asc(nulls_first=True), "-started_at", "-id"]
    fields = [
        "user",
        "client",
        "reason",
        "started_at",
        "expires_at",
        "ended_at",
        "pages_seen",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    ]
    actions = ["end_now", "mark_reviewed"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EmergencyAccess]:
        queryset = super().get_queryset(request)
        if self.is_reviewer(request):
            return queryset
        return queryset.filter(user=request.user.pk)

    def is_reviewer(self, request: HttpRequest) -> bool:
        return request.user.has_perm("programs.change_emergencyaccess")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            return type(
                "RequestForm",
                (EmergencyAccessRequestForm,),
                {"requested_by": request.user},
            )
        form = super().get_form(request, obj, change, **kwargs)
        if "review_note" in form.base_fields:
            form.base_fields["review_note"].required = True
        return form

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["mrn", "reason", "hours"]
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [field for field in self.fields if field != "review_note"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Checked per row as well as by get_queryset: django-simple-history's pages
        # fall back to the stored versions of a row the queryset leaves out.
        allowed = super().has_view_permission(request, obj)
        return allowed and (
            obj is None or self.is_reviewer(request) or obj.user_id == request.user.pk
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Changing a grant is reviewing it, once.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or not obj.is_reviewed)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="state")
    def state(self, obj: EmergencyAccess) -> str:
        now = timezone.now()
        if obj.ended_at is not None and obj.ended_at <= now:
            return "ended early"
        return "in force" if obj.is_active(now) else "expired"

    @admin.display(description="pages seen")
    def pages_seen(self, obj: EmergencyAccess) -> str:
        # The access audit's list, flagged with this grant (the site's audit report;
        # looked up by name, as programs never imports the project package).
        try:
            url = reverse("admin:iopclinic_accessevent_changelist")
        except NoReverseMatch:
            return "–"
        query = urlencode({"emergency_access": obj.pk})
        return format_html('<a href="{}?{}">pages seen</a>', url, query)

    def save_model(
        self, request: HttpRequest, obj: EmergencyAccess, form: Any, change: bool
    ) -> None:
        if change and not obj.is_reviewed:
            obj.reviewed_by = request.user  # type: ignore[assignment]
            obj.reviewed_at = timezone.now()
        super().save_model(request, obj, form, change)

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {"title": "Request emergency access", **(extra_context or {})}
        return super().add_view(request, form_url, context)

    def response_add(
        self, request: HttpRequest, obj: EmergencyAccess, post_url_continue: Any = None
    ) -> HttpResponse:
        until = timezone.localtime(obj.expires_at)
        self.message_user(
            request,
            f"Emergency access granted until {until:%H:%M}. Every page you open "
            "is flagged for the privacy officer's review.",
            messages.WARNING,
        )
        return HttpResponseRedirect(
            reverse("admin:intake_client_change", args=[obj.client_id])
        )

    @admin.action(permissions=["add"], description="End my emergency access now")
    def end_now(self, request: HttpRequest, queryset: Any) -> None:
        now = timezone.now()
        ended = 0
        for grant in queryset.active(now).filter(user=request.user.pk):
            grant.ended_at = now
            grant.save(update_fields=["ended_at"])
            ended += 1
        self.message_user(request, f"{ended} emergency access(es) ended.")

    @admin.action(
        permissions=["change"],
        description="Mark reviewed: the reason and the pages seen agree",
    )
    def mark_reviewed(self, request: HttpRequest, queryset: Any) -> None:
        now = timezone.now()
        reviewed = 0
        for grant in queryset.unreviewed():
            grant.reviewed_by = request.user
            grant.reviewed_at = now
            grant.review_note = REVIEWED_AS_JUSTIFIED
            grant.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
            reviewed += 1
        self.message_user(request, f"{reviewed} emergency access(es) reviewed.")
