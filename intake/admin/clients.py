from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from ..forms import ClientForm
from ..models import Client, Consent, Inquiry, PresentingConcern, WaitlistEntry
from ..pagination import EstimatedCountPaginator
from .search import with_phone_matches
from .widgets import AutocompleteMixin


class ConsentInline(admin.TabularInline):
    model = Consent
    fields = [
        "recipient",
        "purpose",
        "shares_mental_health",
        "shares_substance_use",
        "signed_on",
        "expires_on",
        "expires_on_event",
        "revoked_on",
    ]
    readonly_fields = ["revoked_on"]
    extra = 0
    can_delete = False
    show_change_link = True


INQUIRY_COLUMNS = ("received_at", "channel", "status", "risk_level")
WAITLIST_COLUMNS = ("level_of_care", "priority", "added_on", "status", "removed_reason")


class InquiryInline(admin.TabularInline):
    model = Inquiry
    fields = INQUIRY_COLUMNS
    readonly_fields = INQUIRY_COLUMNS
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "inquiries over the years"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WaitlistInline(admin.TabularInline):
    model = WaitlistEntry
    fields = WAITLIST_COLUMNS
    readonly_fields = WAITLIST_COLUMNS
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WaitlistEntry]:
        # Each row's name (its change link) names the client.
        return super().get_queryset(request).select_related("client")


@admin.register(Client)
class ClientAdmin(SimpleHistoryAdmin):
    list_display = [
        "last_name",
        "first_name",
        "preferred_name",
        "mrn",
        "date_of_birth",
        "phone",
    ]
    search_fields = ["mrn", "last_name", "first_name", "preferred_name", "phone"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    form = ClientForm
    fieldsets = [
        ("Record", {"fields": ["mrn", "created_at", "updated_at"]}),
        (
            "Name",
            {"fields": ["first_name", "last_name", "preferred_name", "pronouns"]},
        ),
        ("Contact", {"fields": ["date_of_birth", "phone", "email", "address"]}),
        (
            "Emergency contact",
            {
                "fields": [
                    "emergency_contact_name",
                    "emergency_contact_relationship",
                    "emergency_contact_phone",
                ]
            },
        ),
        (
            "Insurance and language",
            {"fields": ["payer", "member_id", "primary_language"]},
        ),
        ("Privacy", {"fields": ["substance_use_treatment"]}),
    ]
    readonly_fields = ["mrn", "created_at", "updated_at"]
    inlines = [ConsentInline, InquiryInline, WaitlistInline]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Client], search_term: str
    ) -> tuple[QuerySet[Client], bool]:
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        return with_phone_matches(queryset, results, search_term), may_have_duplicates

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            fieldsets.append(("Possible duplicates", {"fields": ["not_a_duplicate"]}))
        return fieldsets


@admin.register(Consent)
class ConsentAdmin(AutocompleteMixin, SimpleHistoryAdmin):
    list_display = [
        "client",
        "recipient",
        "purpose",
        "shares_substance_use",
        "signed_on",
        "expires_on",
        "is_current_display",
    ]
    list_filter = ["shares_substance_use", "recipient_kind"]
    search_fields = ["client__mrn", "client__last_name", "recipient"]
    list_select_related = ["client"]
    show_full_result_count = False
    fields = [
        "client",
        "recipient",
        "recipient_kind",
        "purpose",
        "shares_mental_health",
        "shares_substance_use",
        "signed_on",
        "expires_on",
        "expires_on_event",
        "revoked_on",
        "revoked_by",
    ]
    readonly_fields = ["revoked_on", "revoked_by"]
    autocomplete_fields = ["client"]
    radio_fields = {"recipient_kind": admin.HORIZONTAL}
    actions = ["revoke"]

    @admin.display(description="current", boolean=True)
    def is_current_display(self, consent: Consent) -> bool:
        return consent.is_current

    @admin.action(permissions=["change"], description="Revoke the selected consents")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Consent]) -> None:
        count = 0
        for consent in queryset.filter(revoked_on__isnull=True):
            consent.revoke(by=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, f"{count} consent(s) revoked.", messages.SUCCESS)


@admin.register(PresentingConcern)
class PresentingConcernAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position"]
    ordering = ["position"]
