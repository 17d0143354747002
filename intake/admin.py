from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Client


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
    fieldsets = [
        ("Record", {"fields": ["mrn", "created_at", "updated_at"]}),
        ("Name", {"fields": ["first_name", "last_name", "preferred_name", "pronouns"]}),
        ("Details", {"fields": ["date_of_birth", "phone", "email"]}),
    ]
    readonly_fields = ["mrn", "created_at", "updated_at"]
