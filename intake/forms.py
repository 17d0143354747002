"""Admin forms for intake: moving an inquiry along, and catching duplicate clients."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from .models import Client, Inquiry


class InquiryForm(forms.ModelForm):
    """The inquiry, plus a "move to" choice limited to the legal next statuses."""

    move_to = forms.ChoiceField(
        label="Move to",
        required=False,
        help_text="Only the next steps allowed from the current status are listed.",
    )
    status_note = forms.CharField(
        label="Note for the timeline",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Inquiry
        fields = "__all__"  # noqa: DJ007 (the ModelAdmin's fieldsets choose)
        widgets = {"concerns": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        moves = self.instance.allowed_moves()
        move_to = cast(forms.ChoiceField, self.fields["move_to"])
        move_to.choices = [("", "Keep the current status")] + [
            (status, Inquiry.Status(status).label) for status in moves
        ]

    def _post_clean(self) -> None:
        # Model validation first (it fills the instance with the typed values), then
        # the move is checked against those values and against the status as it is now
        # in the database: the row stays locked until the admin's transaction commits.
        super()._post_clean()  # type: ignore[misc]
        target = self.cleaned_data.get("move_to")
        if not target or self.errors:
            return
        if self.instance.pk:
            current = Inquiry.objects.select_for_update().only("status")
            self.instance.status = current.get(pk=self.instance.pk).status
        self.instance.risk_level = self.instance.assess_risk()
        problem = self.instance.move_problem(target)
        if problem:
            self.add_error("move_to", problem)


class ClientForm(forms.ModelForm):
    """A new client record, refused while it looks like someone already on file."""

    not_a_duplicate = forms.BooleanField(
        label="This is a different person from the possible matches",
        required=False,
        help_text="Tick only after checking the records listed in the error above.",
    )

    class Meta:
        model = Client
        fields = "__all__"  # noqa: DJ007 (the ModelAdmin's fieldsets choose)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk or cleaned.get("not_a_duplicate"):
            return cleaned
        matches = Client.objects.possible_duplicates(
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
            date_of_birth=cleaned.get("date_of_birth"),
            phone=cleaned.get("phone", ""),
        )[:5]
        if matches:
            found = "; ".join(
                f"{m.first_name} {m.last_name}, MRN {m.mrn}, "
                f"born {m.date_of_birth:%Y-%m-%d}"
                for m in matches
            )
            raise ValidationError(
                f"Possible existing client records: {found}. Open and use the existing "
                "record, or tick the box below if this is someone else."
            )
        return cleaned
