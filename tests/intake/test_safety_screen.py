"""The C-SSRS safety screen: risk levels, its checks, the crisis banner, the review."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from intake.models import Inquiry, RiskLevel
from iopclinic import roles
from tests.admin_forms import form_data
from tests.factories import InquiryFactory

# Every question asked and answered no: 3 to 5 only follow a yes to 2, 6a a yes to 6.
ALL_NO = {
    "cssrs_wish_dead": False,
    "cssrs_suicidal_thoughts": False,
    "cssrs_behaviour": False,
    "intent_to_harm_others": False,
    "medical_emergency": False,
}
THOUGHTS = {
    "cssrs_suicidal_thoughts": True,
    **dict.fromkeys(["cssrs_method", "cssrs_intent", "cssrs_plan"], False),
}

# DOMAIN.md section 2: 4, 5 or behaviour in the past 3 months is high; 3 or older
# behaviour is moderate; 1-2 only is low.
PATTERNS = [
    pytest.param({}, None, id="no-answers"),
    pytest.param(ALL_NO, RiskLevel.NONE, id="all-no"),
    pytest.param({**ALL_NO, "cssrs_wish_dead": True}, RiskLevel.LOW, id="q1-only"),
    pytest.param({**ALL_NO, **THOUGHTS}, RiskLevel.LOW, id="q2-only"),
    pytest.param(
        {**ALL_NO, "cssrs_wish_dead": True, **THOUGHTS, "cssrs_method": True},
        RiskLevel.MODERATE,
        id="q3-method",
    ),
    pytest.param(
        {**ALL_NO, "cssrs_behaviour": True, "cssrs_behaviour_past_3_months": False},
        RiskLevel.MODERATE,
        id="q6-older-behaviour",
    ),
    pytest.param(
        {**ALL_NO, **THOUGHTS, "cssrs_intent": True}, RiskLevel.HIGH, id="q4-intent"
    ),
    pytest.param(
        {**ALL_NO, **THOUGHTS, "cssrs_plan": True}, RiskLevel.HIGH, id="q5-plan"
    ),
    pytest.param(
        {**ALL_NO, "cssrs_behaviour": True, "cssrs_behaviour_past_3_months": True},
        RiskLevel.HIGH,
        id="q6-recent-behaviour",
    ),
    pytest.param(
        {**ALL_NO, "intent_to_harm_others": True}, RiskLevel.HIGH, id="harm-others"
    ),
    pytest.param(
        {**ALL_NO, "medical_emergency": True}, RiskLevel.HIGH, id="medical-emergency"
    ),
]
HIGH = {**ALL_NO, "medical_emergency": True}


def yes_no(answers: Mapping[str, bool | None]) -> dict[str, str]:
    """Answers as the admin's radio buttons post them."""
    return {
        name: "" if value is None else str(value) for name, value in answers.items()
    }


def change_url(inquiry: Inquiry) -> str:
    return reverse("admin:intake_inquiry_change", args=[inquiry.pk])


# The model


@pytest.mark.django_db
@pytest.mark.parametrize(("answers", "level"), PATTERNS)
def test_risk_level_is_computed_on_save(
    answers: dict[str, bool], level: RiskLevel | None
) -> None:
    """Saving the screen's answers stores the risk level DOMAIN.md section 2 gives."""
    inquiry = InquiryFactory(**answers)
    inquiry.full_clean()  # each pattern is a screen the rules allow
    inquiry.refresh_from_db()
    assert inquiry.risk_level == level
    assert inquiry.is_screened is (level is not None)
    assert inquiry.is_high_risk is (level == RiskLevel.HIGH)


@pytest.mark.django_db
def test_risk_level_follows_changed_answers() -> None:
    """Changing an answer and saving again recomputes the stored level."""
    inquiry = InquiryFactory(**ALL_NO)
    assert inquiry.risk_level == RiskLevel.NONE

    inquiry.medical_emergency = True
    inquiry.save(update_fields=["medical_emergency"])
    inquiry.refresh_from_db()
    assert inquiry.risk_level == RiskLevel.HIGH

    inquiry.medical_emergency = False
    inquiry.save()
    inquiry.refresh_from_db()
    assert inquiry.risk_level == RiskLevel.NONE


@pytest.mark.django_db
@pytest.mark.parametrize("question", ["cssrs_method", "cssrs_intent", "cssrs_plan"])
def test_questions_3_to_5_need_a_yes_to_question_2(question: str) -> None:
    """A yes to 3, 4 or 5 after a no to 2 is an error on that question."""
    inquiry = InquiryFactory.build(**{**ALL_NO, question: True})
    with pytest.raises(ValidationError) as raised:
        inquiry.full_clean()
    assert "only when question 2 is yes" in str(raised.value.message_dict[question])


@pytest.mark.django_db
@pytest.mark.parametrize("behaviour", [False, None])
@pytest.mark.parametrize("recent", [True, False])
def test_question_6a_needs_a_yes_to_question_6(
    behaviour: bool | None, recent: bool
) -> None:
    """Any answer to 6a when 6 is no or unasked is an error on 6a."""
    inquiry = InquiryFactory.build(
        **{
            **ALL_NO,
            "cssrs_behaviour": behaviour,
            "cssrs_behaviour_past_3_months": recent,
        }
    )
    with pytest.raises(ValidationError) as raised:
        inquiry.full_clean()
    errors = raised.value.message_dict["cssrs_behaviour_past_3_months"]
    assert "only when question 6 is yes" in str(errors)


# The admin change form


@pytest.mark.django_db
def test_posting_a_risk_level_is_ignored(client: Any, coordinator: Any) -> None:
    """risk_level is not a form field: the answers decide it, whatever is posted."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)
    page = client.get(url)
    assert "risk_level" not in page.context["adminform"].form.fields

    response = client.post(
        url,
        form_data(page, **yes_no(HIGH), risk_level=str(RiskLevel.NONE.value)),
    )

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.risk_level == RiskLevel.HIGH


@pytest.mark.django_db
def test_an_impossible_screen_in_the_admin_is_a_form_error(
    client: Any, coordinator: Any
) -> None:
    """A yes to question 4 after a no to question 2 re-shows the form with an error."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)

    impossible = yes_no({**ALL_NO, "cssrs_intent": True})

    response = client.post(url, form_data(client.get(url), **impossible))

    assert response.status_code == 200
    assert "cssrs_intent" in response.context["adminform"].form.errors
    inquiry.refresh_from_db()
    assert inquiry.risk_level is None


@pytest.mark.django_db
def test_saving_screen_answers_stamps_who_screened(
    client: Any, coordinator: Any, make_staff: Any
) -> None:
    """Answers saved in the admin record the user and time; other edits do not."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)
    before = timezone.now()

    response = client.post(url, form_data(client.get(url), **yes_no(ALL_NO)))

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.risk_level == RiskLevel.NONE
    assert inquiry.screened_by == coordinator
    assert inquiry.screened_at is not None
    assert inquiry.screened_at >= before
    screened_at = inquiry.screened_at

    # A colleague edits the notes only: the screen stays stamped with the screener.
    colleague = make_staff(roles.INTAKE_COORDINATOR)
    client.force_login(colleague)
    response = client.post(url, form_data(client.get(url), notes="Prefers AM."))
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.screened_by, inquiry.screened_at) == (coordinator, screened_at)
    assert inquiry.risk_level == RiskLevel.NONE
    assert inquiry.notes == "Prefers AM."


@pytest.mark.django_db
def test_recording_the_crisis_response_stamps_who(
    client: Any, coordinator: Any
) -> None:
    """Saving what was done for the crisis records the user and time."""
    client.force_login(coordinator)
    inquiry = InquiryFactory(**HIGH)
    url = change_url(inquiry)

    response = client.post(
        url,
        form_data(
            client.get(url),
            crisis_response=Inquiry.CrisisResponse.CALLED_911,
            crisis_response_note="EMS on scene at 14:05.",
        ),
    )

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.crisis_response_by == coordinator
    assert inquiry.crisis_response_at is not None
    assert not inquiry.needs_crisis_response


@pytest.mark.django_db
def test_a_high_risk_change_page_shows_the_crisis_banner(
    client: Any, coordinator: Any
) -> None:
    """The change page of a high-risk inquiry leads with 988 and 911."""
    client.force_login(coordinator)
    inquiry = InquiryFactory(**HIGH)

    page = client.get(change_url(inquiry)).content.decode()

    assert 'class="crisis-banner"' in page
    banner = page.split('class="crisis-banner"', 1)[1].split("</div>", 1)[0]
    assert "call or text 988" in banner
    assert "<strong>911</strong>" in banner
    assert "has not been recorded yet" in banner


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answers",
    [{}, ALL_NO, {**ALL_NO, "cssrs_wish_dead": True}],
    ids=["unscreened", "no-risk", "low-risk"],
)
def test_other_change_pages_have_no_crisis_banner(
    client: Any, coordinator: Any, answers: dict[str, bool]
) -> None:
    """An inquiry that is not high risk shows no crisis banner."""
    client.force_login(coordinator)
    inquiry = InquiryFactory(**answers)

    response = client.get(change_url(inquiry))

    assert response.status_code == 200
    page = response.content.decode()
    assert "crisis-banner" not in page
    assert "call or text 988" not in page
    assert "<strong>911</strong>" not in page


@pytest.mark.django_db
def test_high_risk_sorts_first_in_the_worklist(client: Any, coordinator: Any) -> None:
    """The changelist puts an open high-risk inquiry above all others, whatever their
    age."""
    client.force_login(coordinator)
    now = timezone.now()

    def received(days_ago: int, **answers: Any) -> Inquiry:
        return InquiryFactory(
            received_at=now - datetime.timedelta(days=days_ago), **answers
        )

    # Received both before and after it, so no date order alone could put it first.
    others = [
        received(9),
        received(8, **{**ALL_NO, "cssrs_behaviour": True}),
        received(2, **{**ALL_NO, "cssrs_wish_dead": True}),
        received(1, **ALL_NO),
    ]
    high = received(5, **HIGH)

    response = client.get(reverse("admin:intake_inquiry_changelist"))

    result = list(response.context["cl"].result_list)
    assert result[0] == high
    assert sorted(i.pk for i in result[1:]) == sorted(i.pk for i in others)


# The clinician's review


@pytest.mark.django_db
def test_a_therapist_reviews_high_risk_but_not_the_worklist(
    client: Any, make_staff: Any
) -> None:
    """A therapist sees only high-risk inquiries and not the coordinators' list."""
    therapist = make_staff(roles.THERAPIST)
    client.force_login(therapist)
    high = InquiryFactory(**HIGH)
    InquiryFactory(**{**ALL_NO, "cssrs_wish_dead": True})

    review = client.get(reverse("admin:intake_highriskinquiry_changelist"))
    assert review.status_code == 200
    assert [i.pk for i in review.context["cl"].result_list] == [high.pk]

    assert client.get(reverse("admin:intake_inquiry_changelist")).status_code == 403
    assert client.get(change_url(high)).status_code == 403


@pytest.mark.django_db
def test_a_therapist_records_the_override_note(client: Any, make_staff: Any) -> None:
    """The override note is saved with the therapist and time; the screen stays."""
    therapist = make_staff(roles.THERAPIST)
    client.force_login(therapist)
    inquiry = InquiryFactory(**HIGH)
    url = reverse("admin:intake_highriskinquiry_change", args=[inquiry.pk])
    page = client.get(url)
    assert list(page.context["adminform"].form.fields) == ["risk_override_note"]

    response = client.post(
        url,
        form_data(
            page,
            risk_override_note="Assessed by phone; safe to wait with a safety plan.",
            medical_emergency="False",  # read-only here: ignored
        ),
    )

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.risk_override_note.startswith("Assessed by phone")
    assert inquiry.risk_override_by == therapist
    assert inquiry.risk_override_at is not None
    assert inquiry.medical_emergency is True
    assert inquiry.risk_level == RiskLevel.HIGH
    assert inquiry.may_wait_for_a_seat
