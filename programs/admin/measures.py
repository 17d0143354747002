"""Outcome measures in the admin: record a PHQ-9 or GAD-7 item by item, the scores the
server computes, the item 9 follow-up, and the outcome panel and safety banner other
pages of a client show."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminRadioSelect
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from ..charts import Series, line_chart
from ..instruments import INSTRUMENTS, Instrument
from ..models import Assessment, Enrollment
from ..outcomes import Outcome, outcome_summary
from ..pagination import EstimatedCountPaginator
from .caseload import CaseloadAdmin

# How each instrument is drawn on the enrollment's chart; the dashes tell the lines
# apart without colour.
CHART_LINES = {"phq9": ("#2f5d62", ""), "gad7": ("#b85c00", "6 4")}


def item_field(number: int) -> str:
    return f"item_{number}"


class AssessmentForm(forms.ModelForm):
    """The answers as one question per item; the model scores them. Subclassed per
    instrument by ``assessment_form``."""

    instrument: Instrument

    class Meta:
        model = Assessment
        fields = ["enrollment", "administered_on", "safety_followup_note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.instance.instrument = self.instrument.code
        for number, answer in enumerate(self.instance.answers or [], start=1):
            if item_field(number) in self.fields:
                self.initial[item_field(number)] = answer

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        # The answers given, in item order; any missing one is already a field error,
        # and the model says how many the instrument needs.
        self.instance.answers = [
            cleaned[item_field(number)]
            for number in range(1, self.instrument.item_count + 1)
            if cleaned.get(item_field(number)) is not None
        ]
        return cleaned


def assessment_form(instrument: Instrument) -> type[AssessmentForm]:
    """The form of one instrument: a radio question (0-3) per item, labelled with
    the item's own wording."""
    choices = [
        (value, f"{value} {label}") for value, label in enumerate(instrument.answers)
    ]
    invalid = (
        f"Choose one answer, 0 ({instrument.answers[0]}) to "
        f"{instrument.highest_answer} ({instrument.answers[-1]})."
    )
    items = {
        item_field(number): forms.TypedChoiceField(
            label=f"{number}. {text}",
            choices=choices,
            coerce=int,
            widget=AdminRadioSelect(attrs={"class": "radiolist inline"}),
            error_messages={"required": invalid, "invalid_choice": invalid},
        )
        for number, text in enumerate(instrument.items, start=1)
    }
    name = f"{instrument.code.upper()}Form"
    return type(name, (AssessmentForm,), {"instrument": instrument, **items})


class SafetyFollowupFilter(admin.SimpleListFilter):
    title = "item 9"
    parameter_name = "item9"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("needs_followup", "Item 9 needs follow-up"),
            ("followed_up", "Item 9 followed up"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "needs_followup":
            return queryset.needing_safety_followup()  # type: ignore[attr-defined]
        if self.value() == "followed_up":
            return queryset.filter(safety_followup_at__isnull=False)
        return queryset


@admin.register(Assessment)
class AssessmentAdmin(CaseloadAdmin):
    """PHQ-9 and GAD-7 scores of the caseload; "Record a PHQ-9" opens the add form
    of that instrument."""

    list_display = [
        "administered_on",
        "client",
        "instrument",
        "total_score",
        "severity",
        "item_9",
    ]
    list_filter = ["instrument", "severity", SafetyFollowupFilter]
    search_fields = ["=enrollment__client__mrn", "enrollment__client__last_name"]
    list_select_related = ["enrollment__client"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    autocomplete_fields = ["enrollment"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        instrument = self.instrument_for(request, obj)
        assert instrument is not None  # add_view asks for one first
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (
                None,
                {
                    "fields": [
                        "enrollment",
                        "instrument",
                        "administered_on",
                        "administered_by",
                    ]
                },
            ),
            (
                instrument.question,
                {
                    "fields": (
                        [
                            item_field(number)
                            for number in range(1, instrument.item_count + 1)
                        ]
                        if obj is None or self.has_change_permission(request, obj)
                        # Read-only (a manager): the answers as a list, in words.
                        else ["answers_in_words"]
                    ),
                    "classes": ["wide"],
                },
            ),
        ]
        if obj is not None:
            score = ["total_score", "severity"]
            if instrument.safety_item:
                score.append("safety_answer")
            fieldsets.append(("Score (computed from the answers)", {"fields": score}))
        if instrument.safety_item:
            followup = ["safety_followup_note"]
            if obj is not None and obj.safety_followup_at is not None:
                followup += ["safety_followup_by", "safety_followup_at"]
            fieldsets.append(
                (
                    f"Item {instrument.safety_item} follow-up",
                    {
                        "fields": followup,
                        "description": (
                            f"Any answer above 0 to item {instrument.safety_item} "
                            "needs a clinician's follow-up whatever the total. "
                            "Record what was done; it is signed with your name "
                            "and the time."
                        ),
                    },
                )
            )
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [
            "instrument",
            "administered_by",
            "total_score",
            "severity",
            "safety_answer",
            "answers_in_words",
            "safety_followup_by",
            "safety_followup_at",
        ]
        if obj is not None:
            # A score stays with the client it was given to.
            fields.append("enrollment")
            if obj.safety_followup_at is not None:
                # Signed: a correction is a new history version, not an edit.
                fields.append("safety_followup_note")
        return fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        instrument = self.instrument_for(request, obj)
        assert instrument is not None  # add_view asks for one first
        kwargs["form"] = assessment_form(instrument)
        return super().get_form(request, obj, change, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        # "Record a PHQ-9" links carry the enrollment; a mangled id is dropped
        # rather than a 500 when the form draws it.
        if not str(initial.get("enrollment", "")).isdigit():
            initial.pop("enrollment", None)
        initial.pop("instrument", None)  # in the URL, not a form field
        return initial

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "enrollment":
            # The caseload (RowScopedAdmin); its label names the client and track.
            formfield.queryset = formfield.queryset.select_related("client", "track")
        return formfield

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assessment]:
        return super().get_queryset(request).select_related("enrollment__client")

    @staticmethod
    def instrument_for(request: HttpRequest, obj: Any = None) -> Instrument | None:
        """The assessment's instrument; on the add page, the one asked for in the
        URL (?instrument=phq9)."""
        if obj is not None:
            return obj.definition  # type: ignore[no-any-return]
        return INSTRUMENTS.get(request.GET.get("instrument", ""))

    @admin.display(description="client", ordering="enrollment__client__last_name")
    def client(self, assessment: Assessment) -> Any:
        return assessment.enrollment.client

    @admin.display(description="answers")
    def answers_in_words(self, assessment: Assessment) -> str:
        definition = assessment.definition
        return format_html(
            '<ol class="answers">{}</ol>',
            format_html_join(
                "",
                "<li>{}: <strong>{} {}</strong></li>",
                (
                    (text, answer, definition.answers[answer])
                    for text, answer in zip(
                        definition.items, assessment.answers, strict=False
                    )
                ),
            ),
        )

    @admin.display(description="safety item")
    def safety_answer(self, assessment: Assessment) -> str:
        item = assessment.definition.safety_item
        if assessment.safety_flag:
            return format_html(
                '<strong class="safety-flag">Positive</strong>: item {} answered '
                '"{}"; needs a follow-up whatever the total.',
                item,
                assessment.safety_answer,
            )
        return f'Item {item} answered "{assessment.safety_answer}"'

    @admin.display(description="item 9")
    def item_9(self, assessment: Assessment) -> str:
        if assessment.needs_safety_followup:
            return format_html(
                '<strong class="safety-flag">{}</strong>', "Positive: follow-up needed"
            )
        if assessment.safety_flag:
            return "Positive: followed up"
        return ""

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if self.instrument_for(request) is None:
            # Which questionnaire? The form is built from its definition.
            if not self.has_add_permission(request):
                raise PermissionDenied
            return TemplateResponse(
                request,
                "admin/programs/assessment/choose_instrument.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": "Record an outcome measure",
                    "choices": record_links(request.GET.get("enrollment")),
                },
            )
        return super().add_view(request, form_url, extra_context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        extra_context = {**(extra_context or {}), "record_links": record_links()}
        return super().changelist_view(request, extra_context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None and obj.needs_safety_followup:
            context["safety_alerts"] = [obj]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(
        self, request: HttpRequest, obj: Assessment, form: Any, change: bool
    ) -> None:
        if not change:
            obj.administered_by = request.user  # type: ignore[assignment]
        if "safety_followup_note" in form.changed_data and obj.safety_followup_note:
            obj.stamp_safety_followup(by=request.user)
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: Assessment, post_url_continue: Any = None
    ) -> HttpResponse:
        if obj.needs_safety_followup:
            # Straight to the follow-up, rather than back to the list.
            self.message_user(
                request,
                f"{obj} recorded: total {obj.total_score}, "
                f"{obj.get_severity_display().lower()}. Item "
                f"{obj.definition.safety_item} is positive: follow up now and "
                "record what was done below.",
                messages.WARNING,
            )
            return HttpResponseRedirect(
                reverse("admin:programs_assessment_change", args=[obj.pk])
            )
        if "_addanother" in request.POST:
            # The stock response says "added"; then another of the same
            # questionnaire, for the next client.
            super().response_add(request, obj, post_url_continue)
            query = urlencode({"instrument": obj.instrument})
            return HttpResponseRedirect(
                f"{reverse('admin:programs_assessment_add')}?{query}"
            )
        return super().response_add(request, obj, post_url_continue)


def record_links(enrollment_id: Any = None) -> list[tuple[str, str]]:
    """(label, add URL) per instrument, for one enrollment when given."""
    add = reverse("admin:programs_assessment_add")
    links = []
    for code, instrument in INSTRUMENTS.items():
        query = {"instrument": code}
        if enrollment_id:
            query["enrollment"] = str(enrollment_id)
        links.append((f"Record a {instrument.short_name}", f"{add}?{urlencode(query)}"))
    return links


def safety_alerts(request: HttpRequest, **lookup: Any) -> list[Assessment]:
    """Positive safety items nobody has followed up yet, among the assessments the
    user may see, narrowed by ``lookup`` (one query; none without the permission)."""
    if not request.user.has_perm("programs.view_assessment"):
        return []
    return list(
        Assessment.objects.visible_to(request.user)  # type: ignore[attr-defined]
        .needing_safety_followup()
        .filter(**lookup)
        .order_by("administered_on", "id")
    )


def yes_no(flag: bool | None, not_applicable: str = "n/a") -> str:
    if flag is None:
        return not_applicable
    return "yes" if flag else "no"


def with_band(instrument: Instrument, total: int) -> str:
    return f"{total} ({instrument.band_label(total).lower()})"


def outcome_row(outcome: Outcome) -> tuple[Any, ...]:
    """One instrument's line of the outcome table."""
    instrument = outcome.instrument
    if outcome.baseline is None or outcome.latest is None:
        return (instrument.short_name, "none yet", *[""] * 7)
    if not outcome.has_change:
        return (
            instrument.short_name,
            with_band(instrument, outcome.baseline),
            "needs 2+ scores",
            *[""] * 4,
            yes_no(outcome.case_at_baseline),
            "",
        )
    return (
        instrument.short_name,
        with_band(instrument, outcome.baseline),
        with_band(instrument, outcome.latest),
        f"{outcome.change:+d}",
        yes_no(outcome.response, "n/a (baseline 0)"),
        yes_no(outcome.remission),
        yes_no(outcome.reliable_improvement),
        f"{yes_no(outcome.case_at_baseline)} / {yes_no(outcome.case_at_latest)}",
        yes_no(outcome.recovery, "n/a (not a case at baseline)"),
    )


def outcome_panel(enrollment: Enrollment) -> SafeString:
    """Baseline, latest, change and the flags per instrument, a chart of the scores
    over time and the same scores as a table (two queries at most)."""
    outcomes = outcome_summary(enrollment)
    summary = format_html(
        '<table class="outcomes"><thead><tr><th>Measure</th><th>Baseline</th>'
        "<th>Latest</th><th>Change</th><th>Response (50%+ drop)</th>"
        "<th>Remission</th><th>Reliable improvement</th>"
        "<th>Case at baseline / latest</th><th>Recovery</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        format_html_join(
            "",
            "<tr>" + "<td>{}</td>" * 9 + "</tr>",
            (outcome_row(outcome) for outcome in outcomes.values()),
        ),
    )
    series = [
        Series(
            outcome.instrument.short_name,
            [(point.administered_on, point.total) for point in outcome.scores],
            *CHART_LINES.get(code, ("#444444", "2 2")),
        )
        for code, outcome in outcomes.items()
        if outcome.scores
    ]
    if not series:
        return summary
    chart = line_chart(
        series,
        chart_id=f"outcomes-{enrollment.pk}",
        title="Outcome scores over time",
        description="Total scores by date given: "
        + "; ".join(
            f"{line.label} "
            + ", ".join(f"{day:%Y-%m-%d} {value}" for day, value in line.points)
            for line in series
        ),
        y_max=max(INSTRUMENTS[code].max_total for code in outcomes),
        y_step=5,
    )
    scores = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (f"{day:%Y-%m-%d}", line.label, value)
            for line in series
            for day, value in line.points
        ),
    )
    return format_html(
        '{}<figure class="outcome-chart">{}<figcaption><details><summary>The '
        "scores as a table</summary><table><thead><tr><th>Date given</th>"
        "<th>Measure</th><th>Total</th></tr></thead><tbody>{}</tbody></table>"
        "</details></figcaption></figure>",
        summary,
        chart,
        scores,
    )
