"""Inquiry statuses: the legal moves, their preconditions, the timeline, the admin."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from intake.models import Inquiry, InquiryStatusChange, RiskLevel
from tests.admin_forms import form_data
from tests.factories import ClientFactory, InquiryFactory

Status = Inquiry.Status

LEGAL_MOVES = sorted(
    (source, target)
    for source, targets in Inquiry.TRANSITIONS.items()
    for target in targets
)
ILLEGAL_MOVES = sorted(
    (source, target)
    for source, target in itertools.product(Status.values, repeat=2)
    if target not in Inquiry.TRANSITIONS[source]
)

NO_RISK_SCREEN = {
    "cssrs_wish_dead": False,
    "cssrs_suicidal_thoughts": False,
    "cssrs_behaviour": False,
    "intent_to_harm_others": False,
    "medical_emergency": False,
}
HIGH_RISK_SCREEN = {**NO_RISK_SCREEN, "medical_emergency": True}


def ready_inquiry(status: str = Status.NEW, **fields: Any) -> Inquiry:
    """An inquiry meeting every precondition of every move, in ``status``."""
    values: dict[str, Any] = {
        **NO_RISK_SCREEN,
        "client": ClientFactory(),
        "closed_reason": Inquiry.ClosedReason.DECLINED,
        "status": status,
        **fields,
    }
    return InquiryFactory(**values)


# The model: move_to


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), LEGAL_MOVES)
def test_every_legal_move_works_and_is_on_the_timeline(
    coordinator: Any, source: str, target: str
) -> None:
    """Each move listed in TRANSITIONS succeeds and records from, to, who and note."""
    inquiry = ready_inquiry(source)

    change = inquiry.move_to(target, by=coordinator, note=f"{source} to {target}")

    inquiry.refresh_from_db()
    assert inquiry.status == target
    latest = inquiry.status_changes.latest("changed_at", "id")
    assert latest == change
    assert (latest.from_status, latest.to_status) == (source, target)
    assert latest.changed_by == coordinator
    assert latest.note == f"{source} to {target}"


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), ILLEGAL_MOVES)
def test_every_illegal_move_is_refused_and_changes_nothing(
    coordinator: Any, source: str, target: str
) -> None:
    """A move not in TRANSITIONS raises a ValidationError naming both statuses and
    leaves the status and the timeline as they were."""
    inquiry = ready_inquiry(source)
    steps_before = inquiry.status_changes.count()

    with pytest.raises(ValidationError) as raised:
        inquiry.move_to(target, by=coordinator)

    message = raised.value.messages[0]
    assert "cannot move to" in message
    assert Status(target).label.lower() in message
    inquiry.refresh_from_db()
    assert inquiry.status == source
    assert inquiry.status_changes.count() == steps_before


def test_the_pipeline_ends_at_admitted_and_closed() -> None:
    """Admitted and closed are final: no move leaves them; every other status can
    close."""
    assert Inquiry.TRANSITIONS[Status.ADMITTED] == set()
    assert Inquiry.TRANSITIONS[Status.CLOSED] == set()
    open_statuses = set(Status.values) - {Status.ADMITTED, Status.CLOSED}
    assert all(Status.CLOSED in Inquiry.TRANSITIONS[s] for s in open_statuses)


@pytest.mark.django_db
def test_a_new_inquiry_starts_its_timeline(coordinator: Any) -> None:
    """Creating an inquiry writes its first timeline step: start -> new, by who took
    it."""
    inquiry = InquiryFactory(received_by=coordinator)
    step = inquiry.status_changes.get()
    assert (step.from_status, step.to_status) == ("", Status.NEW)
    assert step.changed_by == coordinator


@pytest.mark.django_db
def test_move_to_takes_the_status_from_the_database(coordinator: Any) -> None:
    """A stale in-memory status does not decide the move: the row's status does."""
    inquiry = ready_inquiry(Status.NEW)
    Inquiry.objects.filter(pk=inquiry.pk).update(status=Status.CONTACTED)

    change = inquiry.move_to(Status.SCREENING, by=coordinator)

    assert change.from_status == Status.CONTACTED
    inquiry.refresh_from_db()
    assert inquiry.status == Status.SCREENING


@pytest.mark.django_db
def test_closing_needs_a_reason(coordinator: Any) -> None:
    """Closing without a closed_reason is refused; with one it closes."""
    inquiry = ready_inquiry(Status.CONTACTED, closed_reason="")

    with pytest.raises(ValidationError, match="Closing needs a reason"):
        inquiry.move_to(Status.CLOSED, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CONTACTED

    inquiry.closed_reason = Inquiry.ClosedReason.UNREACHABLE
    inquiry.move_to(Status.CLOSED, by=coordinator)
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.closed_reason) == (Status.CLOSED, "unreachable")


@pytest.mark.django_db
def test_referred_elsewhere_needs_where(coordinator: Any) -> None:
    """Closing as referred elsewhere is refused until referred_to says where."""
    inquiry = ready_inquiry(Status.SCREENING)
    # Set in memory, as a form or an action does: the database refuses it saved alone.
    inquiry.closed_reason = Inquiry.ClosedReason.REFERRED_ELSEWHERE

    with pytest.raises(ValidationError, match="where they were referred"):
        inquiry.move_to(Status.CLOSED, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.SCREENING

    inquiry.closed_reason = Inquiry.ClosedReason.REFERRED_ELSEWHERE
    inquiry.referred_to = "Lakeside Residential Program"
    inquiry.move_to(Status.CLOSED, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CLOSED
    assert inquiry.closed_reason == Inquiry.ClosedReason.REFERRED_ELSEWHERE
    assert inquiry.referred_to == "Lakeside Residential Program"


@pytest.mark.django_db
def test_eligible_needs_a_completed_safety_screen(coordinator: Any) -> None:
    """An unscreened inquiry cannot be marked eligible."""
    inquiry = ready_inquiry(Status.SCREENING, **dict.fromkeys(NO_RISK_SCREEN))
    assert inquiry.risk_level is None

    with pytest.raises(ValidationError, match="Complete the safety screen"):
        inquiry.move_to(Status.ELIGIBLE, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.SCREENING


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "target"),
    [
        (Status.ELIGIBLE, Status.WAITLISTED),
        (Status.ELIGIBLE, Status.SCHEDULED),
    ],
)
def test_moves_that_need_a_client_record_are_refused_without_one(
    coordinator: Any, source: str, target: str
) -> None:
    """Waitlisting or scheduling needs the client record created or linked first."""
    inquiry = ready_inquiry(source, client=None)

    with pytest.raises(ValidationError, match="Create or link the client record"):
        inquiry.move_to(target, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == source


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target", [Status.CONTACTED, Status.SCREENING, Status.ELIGIBLE, Status.SCHEDULED]
)
def test_high_risk_without_a_crisis_response_blocks_every_move_but_closing(
    coordinator: Any, target: str
) -> None:
    """Until what was done for the crisis is recorded, only closing is possible."""
    source = next(s for s, t in LEGAL_MOVES if t == target)
    inquiry = ready_inquiry(source, **HIGH_RISK_SCREEN)
    assert inquiry.risk_level == RiskLevel.HIGH

    with pytest.raises(ValidationError, match="record what was done for the crisis"):
        inquiry.move_to(target, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == source

    inquiry.move_to(Status.CLOSED, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CLOSED


@pytest.mark.django_db
def test_a_recorded_crisis_response_unblocks_the_pipeline(coordinator: Any) -> None:
    """Once the crisis response is recorded a high-risk inquiry may move on."""
    inquiry = ready_inquiry(
        Status.NEW,
        **HIGH_RISK_SCREEN,
        crisis_response=Inquiry.CrisisResponse.HANDOFF_988,
    )
    inquiry.move_to(Status.CONTACTED, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CONTACTED


@pytest.mark.django_db
def test_waitlisting_high_risk_needs_a_clinicians_override(coordinator: Any) -> None:
    """A high-risk inquiry is not waitlisted until risk_override_note is set."""
    inquiry = ready_inquiry(
        Status.ELIGIBLE,
        **HIGH_RISK_SCREEN,
        crisis_response=Inquiry.CrisisResponse.SENT_TO_ED,
    )

    with pytest.raises(ValidationError, match="override note"):
        inquiry.move_to(Status.WAITLISTED, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.ELIGIBLE

    inquiry.risk_override_note = "Seen in the ED, stable; safety plan in place."
    inquiry.save()
    inquiry.move_to(Status.WAITLISTED, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.WAITLISTED


@pytest.mark.django_db
def test_allowed_moves_lists_the_legal_targets_in_pipeline_order() -> None:
    """allowed_moves() gives the next statuses from TRANSITIONS, in pipeline order."""
    inquiry = ready_inquiry(Status.ELIGIBLE)
    assert inquiry.allowed_moves() == [
        Status.WAITLISTED,
        Status.SCHEDULED,
        Status.CLOSED,
    ]
    assert ready_inquiry(Status.ADMITTED).allowed_moves() == []


# The database


@pytest.mark.django_db
def test_the_database_refuses_a_closed_inquiry_without_a_reason() -> None:
    """The inquiry_closed_needs_reason constraint rejects an update that skips the
    model."""
    inquiry = InquiryFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Inquiry.objects.filter(pk=inquiry.pk).update(status=Status.CLOSED)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.NEW


@pytest.mark.django_db
def test_the_database_refuses_a_waitlisted_inquiry_without_a_client() -> None:
    """The inquiry_pipeline_needs_client constraint rejects waitlisting with no
    client."""
    inquiry = InquiryFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Inquiry.objects.filter(pk=inquiry.pk).update(status=Status.WAITLISTED)


# The admin change form


def change_url(inquiry: Inquiry) -> str:
    return reverse("admin:intake_inquiry_change", args=[inquiry.pk])


@pytest.mark.django_db
def test_the_move_to_choices_are_the_legal_moves(client: Any, coordinator: Any) -> None:
    """The change form offers only "keep" and the statuses the inquiry may move to."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    response = client.get(change_url(inquiry))
    choices = response.context["adminform"].form.fields["move_to"].choices
    assert [value for value, _ in choices] == ["", Status.CONTACTED, Status.CLOSED]


@pytest.mark.django_db
def test_a_legal_move_in_the_admin_is_saved_with_the_user(
    client: Any, coordinator: Any
) -> None:
    """Posting a legal move_to redirects and writes the step with the user and note."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)

    response = client.post(
        url,
        form_data(
            client.get(url), move_to=Status.CONTACTED, status_note="Left a voicemail."
        ),
    )

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CONTACTED
    step = inquiry.status_changes.latest("changed_at", "id")
    assert (step.from_status, step.to_status) == (Status.NEW, Status.CONTACTED)
    assert step.changed_by == coordinator
    assert step.note == "Left a voicemail."
    assert "Left a voicemail." in client.get(url).content.decode()


@pytest.mark.django_db
def test_saving_without_a_move_keeps_the_status(client: Any, coordinator: Any) -> None:
    """A save with "keep the current status" changes fields but writes no step."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)

    response = client.post(url, form_data(client.get(url), notes="Call at 5."))

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.notes) == (Status.NEW, "Call at 5.")
    assert inquiry.status_changes.count() == 1


@pytest.mark.django_db
def test_an_illegal_move_in_the_admin_is_a_form_error(
    client: Any, coordinator: Any
) -> None:
    """Posting move_to=admitted on a new inquiry re-shows the form with an error."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)

    response = client.post(url, form_data(client.get(url), move_to=Status.ADMITTED))

    assert response.status_code == 200
    assert "move_to" in response.context["adminform"].form.errors
    inquiry.refresh_from_db()
    assert inquiry.status == Status.NEW
    assert not inquiry.status_changes.filter(to_status=Status.ADMITTED).exists()


@pytest.mark.django_db
def test_a_move_made_stale_by_someone_else_is_a_form_error(
    client: Any, coordinator: Any
) -> None:
    """A move offered on the page but no longer legal when posted is a form error,
    not a 500."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)
    page = client.get(url)
    # Another coordinator closes it meanwhile.
    Inquiry.objects.filter(pk=inquiry.pk).update(
        status=Status.CLOSED, closed_reason=Inquiry.ClosedReason.WITHDRAWN
    )

    response = client.post(url, form_data(page, move_to=Status.CONTACTED))

    assert response.status_code == 200
    assert "move_to" in response.context["adminform"].form.errors
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CLOSED
    assert not inquiry.status_changes.filter(to_status=Status.CONTACTED).exists()


@pytest.mark.django_db
def test_closing_in_the_admin_without_a_reason_is_a_form_error(
    client: Any, coordinator: Any
) -> None:
    """Choosing "closed" with no closed_reason is an error on move_to, not a 500."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)

    response = client.post(
        url, form_data(client.get(url), move_to=Status.CLOSED, closed_reason="")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["move_to"]
    assert "Closing needs a reason" in str(errors)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.NEW


@pytest.mark.django_db
def test_closing_in_the_admin_with_a_reason_closes(
    client: Any, coordinator: Any
) -> None:
    """Choosing "closed" with a reason in the same post closes the inquiry."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)

    response = client.post(
        url,
        form_data(
            client.get(url),
            move_to=Status.CLOSED,
            closed_reason=Inquiry.ClosedReason.REFERRED_ELSEWHERE,
            referred_to="County residential program",
        ),
    )

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CLOSED
    assert inquiry.closed_reason == Inquiry.ClosedReason.REFERRED_ELSEWHERE


@pytest.mark.django_db
def test_referred_elsewhere_without_where_is_a_form_error(
    client: Any, coordinator: Any
) -> None:
    """Closing as referred elsewhere with no referred_to re-shows the form."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)

    response = client.post(
        url,
        form_data(
            client.get(url),
            move_to=Status.CLOSED,
            closed_reason=Inquiry.ClosedReason.REFERRED_ELSEWHERE,
            referred_to="",
        ),
    )

    assert response.status_code == 200
    assert "referred_to" in response.context["adminform"].form.errors
    inquiry.refresh_from_db()
    assert inquiry.status == Status.NEW


@pytest.mark.django_db
def test_posting_status_directly_is_ignored(client: Any, coordinator: Any) -> None:
    """status is read-only in the admin: posting status=admitted changes nothing."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()
    url = change_url(inquiry)

    response = client.post(url, form_data(client.get(url), status=Status.ADMITTED))

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == Status.NEW


# Admin actions


def run_action(client: Any, action: str, inquiries: list[Inquiry]) -> Any:
    return client.post(
        reverse("admin:intake_inquiry_changelist"),
        {"action": action, "_selected_action": [str(i.pk) for i in inquiries]},
        follow=True,
    )


@pytest.mark.django_db
def test_mark_contacted_moves_the_new_and_warns_about_the_rest(
    client: Any, coordinator: Any
) -> None:
    """The action moves each new inquiry and leaves a warning naming each refused
    one."""
    client.force_login(coordinator)
    new_ones = [InquiryFactory(), InquiryFactory()]
    closed = InquiryFactory(
        last_name="Closedcase",
        status=Status.CLOSED,
        closed_reason=Inquiry.ClosedReason.DUPLICATE,
    )

    response = run_action(client, "mark_contacted", [*new_ones, closed])

    assert response.status_code == 200
    for inquiry in new_ones:
        inquiry.refresh_from_db()
        assert inquiry.status == Status.CONTACTED
        step = inquiry.status_changes.latest("changed_at", "id")
        assert step.changed_by == coordinator
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED
    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert ("success", "2 inquiry(ies) moved to contacted.") in messages
    warnings = [text for level, text in messages if level == "warning"]
    assert len(warnings) == 1
    assert "Closedcase" in warnings[0]
    assert "cannot move to contacted" in warnings[0]


@pytest.mark.django_db
def test_a_close_action_sets_the_reason_and_closes(
    client: Any, coordinator: Any
) -> None:
    """ "Close: unreachable" closes the selected inquiries with that reason."""
    client.force_login(coordinator)
    inquiry = InquiryFactory()

    run_action(client, "close_unreachable", [inquiry])

    inquiry.refresh_from_db()
    assert inquiry.status == Status.CLOSED
    assert inquiry.closed_reason == Inquiry.ClosedReason.UNREACHABLE
    assert InquiryStatusChange.objects.filter(
        inquiry=inquiry, to_status=Status.CLOSED, changed_by=coordinator
    ).exists()


@pytest.mark.django_db
def test_client_record_page_of_an_id_that_cannot_be_one_is_404(
    client: Any, coordinator: Any
) -> None:
    """An inquiry id such as "abc" in the client-record URL is a 404, not a 500."""
    client.force_login(coordinator)
    url = reverse("admin:intake_inquiry_client_record", args=["abc"])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
