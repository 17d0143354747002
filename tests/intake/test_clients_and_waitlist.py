"""Duplicate clients, the client record from an inquiry, the waitlist and consents."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from intake.models import Client, Consent, Inquiry, WaitlistEntry
from intake.workflows import add_to_waitlist
from tests.admin_forms import form_data
from tests.factories import (
    ClientFactory,
    ConsentFactory,
    InquiryFactory,
    WaitlistEntryFactory,
)

DOB = datetime.date(1988, 3, 14)
ROBIN = {"first_name": "Robin", "last_name": "Larkspur", "date_of_birth": DOB}


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


# Duplicate detection


@pytest.mark.django_db
def test_same_name_and_birth_date_is_a_possible_duplicate() -> None:
    """Name (any case, stray spaces) and date of birth together find the client."""
    robin = ClientFactory(**ROBIN)
    ClientFactory(first_name="Robin", last_name="Larkspur")  # another birthday

    matches = Client.objects.possible_duplicates(
        first_name=" rOBIN", last_name="LARKSPUR ", date_of_birth=DOB, phone=""
    )

    assert list(matches) == [robin]


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["555.010.0142", "5550100142", "+1 555 010 0142"])
def test_the_same_phone_written_differently_is_a_possible_duplicate(
    written: str,
) -> None:
    """Phones match on their digits, whatever the punctuation or a +1 prefix."""
    robin = ClientFactory(phone="(555) 010-0142")

    matches = Client.objects.possible_duplicates(
        first_name="Someone", last_name="Else", date_of_birth=DOB, phone=written
    )

    assert list(matches) == [robin]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"first_name": "Robin", "last_name": "Larkspur", "phone": "555-010-9999"},
        {"first_name": "Robin", "last_name": "Larch", "date_of_birth": DOB},
        {"first_name": "Rob", "last_name": "Larkspur", "date_of_birth": DOB},
        {"first_name": "Robin", "last_name": "Larkspur", "phone": "0142"},
    ],
    ids=["name-without-birth-date", "other-surname", "other-first-name", "short-phone"],
)
def test_no_match_otherwise(query: dict[str, Any]) -> None:
    """A name without the birth date, another name, or a too-short phone finds
    nobody."""
    ClientFactory(
        first_name="Robin",
        last_name="Larkspur",
        date_of_birth=DOB,
        phone="(555) 010-0142",
    )
    arguments = {"date_of_birth": None, "phone": "", **query}
    assert not Client.objects.possible_duplicates(**arguments).exists()


@pytest.mark.django_db
def test_adding_a_duplicate_client_in_the_admin_names_the_existing_record(
    client: Any, coordinator: Any
) -> None:
    """The add form refuses a likely duplicate, naming its MRN, until it is ticked."""
    existing = ClientFactory(first_name="Robin", last_name="Larkspur")
    client.force_login(coordinator)
    url = reverse("admin:intake_client_add")
    typed = {
        "first_name": "robin",
        "last_name": "larkspur",
        "date_of_birth": existing.date_of_birth.isoformat(),
    }

    response = client.post(url, form_data(client.get(url), **typed))

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert f"MRN {existing.mrn}" in str(errors)
    assert Client.objects.count() == 1

    response = client.post(
        url, form_data(client.get(url), **typed, not_a_duplicate="on")
    )

    assert response.status_code == 302
    assert Client.objects.count() == 2


@pytest.mark.django_db
def test_editing_a_client_is_not_refused_as_its_own_duplicate(
    client: Any, coordinator: Any
) -> None:
    """The duplicate check is for new records: saving an existing one works."""
    robin = ClientFactory(first_name="Robin", last_name="Larkspur")
    ClientFactory(phone=robin.phone.replace("-", "."))  # shares the phone
    client.force_login(coordinator)
    url = reverse("admin:intake_client_change", args=[robin.pk])

    response = client.post(url, form_data(client.get(url), pronouns="they/them"))

    assert response.status_code == 302
    robin.refresh_from_db()
    assert robin.pronouns == "they/them"


# The client record from an inquiry


def record_url(inquiry: Inquiry) -> str:
    return reverse("admin:intake_inquiry_client_record", args=[inquiry.pk])


@pytest.mark.django_db
def test_the_client_record_page_lists_the_possible_matches(
    client: Any, coordinator: Any
) -> None:
    """The page lists clients matching the inquiry's name and birth date or phone."""
    by_name = ClientFactory(**ROBIN)
    by_phone = ClientFactory(phone="555.010.0142")
    ClientFactory()  # unrelated
    inquiry = InquiryFactory(
        first_name="Robin",
        last_name="Larkspur",
        date_of_birth=DOB,
        phone="(555) 010-0142",
    )
    client.force_login(coordinator)

    response = client.get(record_url(inquiry))

    assert response.status_code == 200
    assert set(response.context["matches"]) == {by_name, by_phone}
    page = response.content.decode()
    assert by_name.mrn in page
    assert by_phone.mrn in page


@pytest.mark.django_db
def test_linking_an_existing_client_records_it_on_the_timeline(
    client: Any, coordinator: Any
) -> None:
    """POST link=<id> links the listed client and notes it with the user."""
    robin = ClientFactory(**ROBIN)
    inquiry = InquiryFactory(**ROBIN)
    client.force_login(coordinator)

    response = client.post(record_url(inquiry), {"link": str(robin.pk)})

    assert response.status_code == 302
    assert response.url == reverse("admin:intake_inquiry_change", args=[inquiry.pk])
    inquiry.refresh_from_db()
    assert inquiry.client == robin
    step = inquiry.status_changes.latest("changed_at", "id")
    assert step.note == f"Linked to existing client {robin.mrn}."
    assert step.changed_by == coordinator
    assert (step.from_status, step.to_status) == (inquiry.status, inquiry.status)
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_linking_a_client_that_is_not_a_match_is_refused(
    client: Any, coordinator: Any
) -> None:
    """Only a listed candidate may be linked: another id is an error message."""
    stranger = ClientFactory()
    inquiry = InquiryFactory(**ROBIN)
    client.force_login(coordinator)

    response = client.post(record_url(inquiry), {"link": str(stranger.pk)})

    assert response.status_code == 200
    assert ("error", "Choose one of the listed records.") in messages_of(response)
    inquiry.refresh_from_db()
    assert inquiry.client is None


@pytest.mark.django_db
def test_creating_the_client_copies_the_inquiry(client: Any, coordinator: Any) -> None:
    """POST create=1 makes a client from the inquiry's details, nothing retyped."""
    inquiry = InquiryFactory(
        first_name="Robin",
        last_name="Larkspur",
        date_of_birth=DOB,
        phone="(555) 010-0142",
        email="robin@example.org",
        payer="Blue Meadow PPO",
        member_id="BM-1234",
    )
    client.force_login(coordinator)

    response = client.post(record_url(inquiry), {"create": "1"})

    assert response.status_code == 302
    inquiry.refresh_from_db()
    created = inquiry.client
    assert created is not None
    assert (created.first_name, created.last_name) == ("Robin", "Larkspur")
    assert created.date_of_birth == DOB
    assert created.phone == "(555) 010-0142"
    assert created.phone_digits == "5550100142"
    assert (created.email, created.payer, created.member_id) == (
        "robin@example.org",
        "Blue Meadow PPO",
        "BM-1234",
    )
    assert created.mrn
    step = inquiry.status_changes.latest("changed_at", "id")
    assert step.note == f"Client record {created.mrn} created."
    assert step.changed_by == coordinator


@pytest.mark.django_db
def test_creating_a_client_needs_surname_and_birth_date(
    client: Any, coordinator: Any
) -> None:
    """Without a birth date on the inquiry no record is made and the page says why."""
    inquiry = InquiryFactory(date_of_birth=None)
    client.force_login(coordinator)

    response = client.post(record_url(inquiry), {"create": "1"})

    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "date of birth" in text
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_an_inquiry_with_a_client_goes_back_to_its_page(
    client: Any, coordinator: Any
) -> None:
    """The client-record page of an already linked inquiry creates nothing more."""
    inquiry = InquiryFactory(client=ClientFactory())
    client.force_login(coordinator)

    response = client.post(record_url(inquiry), {"create": "1"})

    assert response.status_code == 302
    assert Client.objects.count() == 1


# The waitlist: positions


@pytest.mark.django_db
def test_positions_are_urgent_first_then_longest_waiting_per_level() -> None:
    """with_position() numbers waiting entries urgent before routine, then by date,
    separately for each level of care; entries not waiting get no position."""
    routine = WaitlistEntry.Priority.ROUTINE
    urgent = WaitlistEntry.Priority.URGENT
    routine_old = WaitlistEntryFactory(priority=routine, added_on=days_ago(30))
    urgent_new = WaitlistEntryFactory(priority=urgent, added_on=days_ago(1))
    routine_mid = WaitlistEntryFactory(priority=routine, added_on=days_ago(10))
    routine_mid_later = WaitlistEntryFactory(priority=routine, added_on=days_ago(10))
    offered = WaitlistEntryFactory(
        priority=urgent, added_on=days_ago(60), status=WaitlistEntry.Status.OFFERED
    )
    removed = WaitlistEntryFactory(
        priority=urgent,
        added_on=days_ago(60),
        status=WaitlistEntry.Status.REMOVED,
        removed_reason=WaitlistEntry.RemovedReason.PLACED_ELSEWHERE,
    )
    php = WaitlistEntryFactory(
        level_of_care="php", priority=routine, added_on=days_ago(2)
    )

    annotated: Any = WaitlistEntry.objects.with_position()  # adds "position"
    positions = dict(annotated.values_list("pk", "position"))

    assert positions == {
        urgent_new.pk: 1,
        routine_old.pk: 2,
        routine_mid.pk: 3,
        routine_mid_later.pk: 4,
        offered.pk: None,
        removed.pk: None,
        php.pk: 1,
    }


@pytest.mark.django_db
def test_a_position_does_not_change_when_the_list_is_filtered() -> None:
    """The third in line stays third when the queryset holds only that entry."""
    for days in (30, 20):
        WaitlistEntryFactory(added_on=days_ago(days))
    third = WaitlistEntryFactory(added_on=days_ago(10))

    filtered_first: Any = WaitlistEntry.objects.filter(pk=third.pk).with_position()
    filtered_after: Any = WaitlistEntry.objects.with_position().filter(pk=third.pk)

    assert filtered_first.get().position == 3
    assert filtered_after.get().position == 3


@pytest.mark.django_db
def test_a_search_in_the_admin_shows_the_real_place_in_line(
    client: Any, coordinator: Any
) -> None:
    """Searching the waitlist for one client shows their real place, not 1."""
    for days in (30, 20):
        WaitlistEntryFactory(added_on=days_ago(days))
    third = WaitlistEntryFactory(
        added_on=days_ago(10), client=ClientFactory(last_name="Quillfeather")
    )
    client.force_login(coordinator)

    response = client.get(
        reverse("admin:intake_waitlistentry_changelist"), {"q": "Quillfeather"}
    )

    [shown] = response.context["cl"].result_list
    assert shown.pk == third.pk
    assert shown.position == 3


# The waitlist: one open entry per client and level of care


@pytest.mark.django_db
@pytest.mark.parametrize("status", [WaitlistEntry.Status.WAITING, "offered"])
def test_a_second_open_entry_fails_full_clean(status: str) -> None:
    """An open (waiting or offered) entry blocks another for the same level."""
    first = WaitlistEntryFactory(status=status)
    second = WaitlistEntry(client=first.client, level_of_care=first.level_of_care)

    with pytest.raises(ValidationError) as raised:
        second.full_clean()

    assert "already has an open waitlist entry" in str(
        raised.value.message_dict["level_of_care"]
    )


@pytest.mark.django_db
def test_the_other_level_of_care_is_not_blocked() -> None:
    """Waiting for IOP does not stop the same client waiting for PHP."""
    first = WaitlistEntryFactory(level_of_care="iop")
    WaitlistEntry(client=first.client, level_of_care="php").full_clean()


@pytest.mark.django_db
def test_a_removed_entry_does_not_block_a_new_one(coordinator: Any) -> None:
    """After removal the client may be put on the same waitlist again."""
    first = WaitlistEntryFactory()
    first.remove(reason=WaitlistEntry.RemovedReason.UNREACHABLE, by=coordinator)

    again = WaitlistEntry(client=first.client, level_of_care=first.level_of_care)
    again.full_clean()
    again.save()

    assert WaitlistEntry.objects.open().get().pk == again.pk


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_entry() -> None:
    """The partial unique constraint stops a duplicate that skips full_clean."""
    first = WaitlistEntryFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        WaitlistEntry.objects.create(
            client=first.client, level_of_care=first.level_of_care
        )
    assert WaitlistEntry.objects.count() == 1


def waitlist_add(browser: Any, person: Client, **values: Any) -> Any:
    url = reverse("admin:intake_waitlistentry_add")
    page = browser.get(url)
    return browser.post(url, form_data(page, client=str(person.pk), **values))


@pytest.mark.django_db
def test_adding_to_the_waitlist_in_the_admin_stamps_who(
    client: Any, coordinator: Any
) -> None:
    """The admin add form creates a waiting entry added by the user."""
    person = ClientFactory()
    client.force_login(coordinator)

    response = waitlist_add(client, person, level_of_care="iop")

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.client, entry.status) == (person, WaitlistEntry.Status.WAITING)
    assert entry.added_by == coordinator


@pytest.mark.django_db
def test_a_second_open_entry_in_the_admin_is_a_form_error(
    client: Any, coordinator: Any
) -> None:
    """The admin add form shows the duplicate as an error (200), never a 500."""
    first = WaitlistEntryFactory()
    client.force_login(coordinator)

    response = waitlist_add(client, first.client, level_of_care="iop")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "already has an open waitlist entry" in str(errors["level_of_care"])
    assert WaitlistEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_high_risk_client_cannot_be_added_in_the_admin(
    client: Any, coordinator: Any
) -> None:
    """A client whose latest screen is high risk with no override is refused."""
    person = ClientFactory()
    InquiryFactory(client=person, medical_emergency=True)
    client.force_login(coordinator)

    response = waitlist_add(client, person, level_of_care="iop")

    assert response.status_code == 200
    assert "crisis care" in str(response.context["adminform"].form.errors["client"])
    assert not WaitlistEntry.objects.exists()


# The waitlist: the add_to_waitlist workflow and removal


def eligible_inquiry(**fields: Any) -> Inquiry:
    values: dict[str, Any] = {
        "status": Inquiry.Status.ELIGIBLE,
        "client": ClientFactory(),
        "cssrs_wish_dead": False,
        "cssrs_suicidal_thoughts": False,
        "requested_schedule": "evening",
        **fields,
    }
    return InquiryFactory(**values)


@pytest.mark.django_db
def test_add_to_waitlist_creates_the_entry_and_moves_the_inquiry(
    coordinator: Any,
) -> None:
    """The workflow adds the entry from the inquiry and moves it to waitlisted."""
    inquiry = eligible_inquiry()

    entry = add_to_waitlist(
        inquiry=inquiry, by=coordinator, priority=WaitlistEntry.Priority.URGENT
    )

    assert (entry.client, entry.inquiry) == (inquiry.client, inquiry)
    assert (entry.level_of_care, entry.preferred_schedule) == ("iop", "evening")
    assert entry.priority == WaitlistEntry.Priority.URGENT
    assert entry.added_by == coordinator
    assert entry.status == WaitlistEntry.Status.WAITING
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.WAITLISTED
    step = inquiry.status_changes.latest("changed_at", "id")
    assert (step.to_status, step.changed_by) == ("waitlisted", coordinator)
    assert step.note == "Added to the waitlist."


@pytest.mark.django_db
def test_add_to_waitlist_needs_iop_or_php(coordinator: Any) -> None:
    """A "not sure" level is refused, unless a level is given to the workflow."""
    inquiry = eligible_inquiry(requested_level=Inquiry.RequestedLevel.NOT_SURE)

    with pytest.raises(ValidationError, match="Choose IOP or PHP"):
        add_to_waitlist(inquiry=inquiry, by=coordinator)
    assert not WaitlistEntry.objects.exists()
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.ELIGIBLE

    entry = add_to_waitlist(inquiry=inquiry, by=coordinator, level_of_care="php")
    assert entry.level_of_care == "php"


@pytest.mark.django_db
def test_add_to_waitlist_refuses_an_inquiry_not_yet_eligible(
    coordinator: Any,
) -> None:
    """An inquiry still in screening is not waitlisted and no entry is left behind."""
    inquiry = eligible_inquiry(status=Inquiry.Status.SCREENING)

    with pytest.raises(ValidationError, match="cannot move to waitlisted"):
        add_to_waitlist(inquiry=inquiry, by=coordinator)
    assert not WaitlistEntry.objects.exists()


@pytest.mark.django_db
def test_the_waitlist_urgent_action_adds_urgent_entries(
    client: Any, coordinator: Any
) -> None:
    """The inquiry action "Add to the waitlist (urgent)" adds an urgent entry."""
    inquiry = eligible_inquiry()
    client.force_login(coordinator)

    client.post(
        reverse("admin:intake_inquiry_changelist"),
        {"action": "waitlist_urgent", "_selected_action": [str(inquiry.pk)]},
    )

    entry = WaitlistEntry.objects.get()
    assert entry.priority == WaitlistEntry.Priority.URGENT
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.WAITLISTED


@pytest.mark.django_db
def test_removing_an_entry_records_why_who_and_when(coordinator: Any) -> None:
    """remove() keeps the entry, marked removed with reason, note, user and day."""
    entry = WaitlistEntryFactory(added_on=days_ago(12))

    entry.remove(
        reason=WaitlistEntry.RemovedReason.NO_LONGER_WANTS_CARE,
        by=coordinator,
        note="Found a therapist near work.",
    )

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.REMOVED
    assert entry.removed_reason == WaitlistEntry.RemovedReason.NO_LONGER_WANTS_CARE
    assert entry.removed_note == "Found a therapist near work."
    assert entry.removed_by == coordinator
    assert entry.removed_on == timezone.localdate()
    assert entry.days_waiting == 12
    with pytest.raises(ValidationError, match="Only a waiting or offered entry"):
        entry.remove(reason=WaitlistEntry.RemovedReason.OTHER, by=coordinator)


@pytest.mark.django_db
def test_the_remove_action_removes_with_the_reason(
    client: Any, coordinator: Any
) -> None:
    """The waitlist action "Remove: unreachable" records the reason and the user."""
    entry = WaitlistEntryFactory()
    client.force_login(coordinator)

    client.post(
        reverse("admin:intake_waitlistentry_changelist"),
        {"action": "remove_unreachable", "_selected_action": [str(entry.pk)]},
    )

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.REMOVED
    assert entry.removed_reason == WaitlistEntry.RemovedReason.UNREACHABLE
    assert entry.removed_by == coordinator


# Consents


@pytest.mark.django_db
def test_current_consents_leave_out_expired_revoked_and_future_ones(
    coordinator: Any,
) -> None:
    """current() keeps consents in force today: signed, not expired, not revoked."""
    today = timezone.localdate()
    in_force = ConsentFactory()
    ends_today = ConsentFactory(expires_on=today)
    until_discharge = ConsentFactory(
        expires_on=None, expires_on_event="at discharge from the program"
    )
    ConsentFactory(signed_on=days_ago(400), expires_on=days_ago(1))  # expired
    ConsentFactory(signed_on=today + datetime.timedelta(days=1))  # not signed yet
    revoked = ConsentFactory()
    revoked.revoke(by=coordinator)

    assert set(Consent.objects.current()) == {in_force, ends_today, until_discharge}
    assert revoked.is_current is False
    assert in_force.is_current is True


@pytest.mark.django_db
def test_current_consents_on_a_past_day(coordinator: Any) -> None:
    """current(on=day) answers for that day: a consent revoked since was in force."""
    revoked = ConsentFactory(signed_on=days_ago(100))
    revoked.revoke(by=coordinator, on=days_ago(5))
    expired = ConsentFactory(signed_on=days_ago(100), expires_on=days_ago(20))

    assert set(Consent.objects.current(days_ago(30))) == {revoked, expired}
    assert set(Consent.objects.current(days_ago(5))) == set()


@pytest.mark.django_db
def test_a_clients_current_consents_are_only_their_own(coordinator: Any) -> None:
    """Client.current_consents() lists that client's consents in force."""
    robin = ClientFactory()
    current = ConsentFactory(client=robin)
    ConsentFactory(client=robin, signed_on=days_ago(400), expires_on=days_ago(1))
    ConsentFactory()  # another client's

    assert list(robin.current_consents()) == [current]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"expires_on": None, "expires_on_event": ""},
            "Give an expiry date or the event that ends it.",
        ),
        (
            {"signed_on": days_ago(5), "expires_on": days_ago(6)},
            "The consent cannot expire before it was signed.",
        ),
    ],
    ids=["no-expiry", "expires-before-signing"],
)
def test_a_consent_needs_a_sensible_expiry(
    fields: dict[str, Any], message: str
) -> None:
    """clean() refuses a consent with no expiry or one ending before it was signed."""
    consent = ConsentFactory.build(client=ClientFactory(), **fields)
    with pytest.raises(ValidationError) as raised:
        consent.full_clean()
    assert raised.value.message_dict["expires_on"] == [message]


@pytest.mark.django_db
def test_revoking_in_the_admin_records_who(
    client: Any, coordinator: Any, make_staff: Any
) -> None:
    """The revoke action stamps the user and day; an earlier revocation is kept."""
    earlier_by = make_staff()
    to_revoke = ConsentFactory()
    already = ConsentFactory()
    already.revoke(by=earlier_by, on=days_ago(3))
    client.force_login(coordinator)

    response = client.post(
        reverse("admin:intake_consent_changelist"),
        {"action": "revoke", "_selected_action": [str(to_revoke.pk), str(already.pk)]},
        follow=True,
    )

    to_revoke.refresh_from_db()
    assert to_revoke.revoked_by == coordinator
    assert to_revoke.revoked_on == timezone.localdate()
    already.refresh_from_db()
    assert (already.revoked_by, already.revoked_on) == (earlier_by, days_ago(3))
    assert ("success", "1 consent(s) revoked.") in messages_of(response)


@pytest.mark.parametrize("typed", ["(555) 301-4477", "555.301.4477", "5553014477"])
def test_admin_search_finds_a_phone_however_it_is_typed(
    client: Any, coordinator: Any, typed: str
) -> None:
    """The same number written three ways finds the same client and inquiry."""
    person = ClientFactory(phone="555-301-4477")
    other = ClientFactory(phone="555-999-0000")
    inquiry = InquiryFactory(phone="555 301 4477")
    client.force_login(coordinator)

    clients = client.get(reverse("admin:intake_client_changelist"), {"q": typed})
    inquiries = client.get(reverse("admin:intake_inquiry_changelist"), {"q": typed})

    assert list(clients.context["cl"].result_list) == [person]
    assert other not in clients.context["cl"].result_list
    assert list(inquiries.context["cl"].result_list) == [inquiry]


def test_bulk_action_creates_clients_and_leaves_possible_duplicates(
    client: Any, coordinator: Any
) -> None:
    """The list action creates records from the inquiries, except for likely matches."""
    existing = ClientFactory(
        first_name="Robin", last_name="Larkspur", phone="555-777-1234"
    )
    fresh = InquiryFactory(first_name="Sage", last_name="Thistle", phone="555-888-4321")
    returning = InquiryFactory(
        first_name="Robin", last_name="Larkspur", phone="(555) 777-1234"
    )
    client.force_login(coordinator)

    response = client.post(
        reverse("admin:intake_inquiry_changelist"),
        {
            "action": "create_client_records",
            "_selected_action": [fresh.pk, returning.pk],
        },
        follow=True,
    )

    fresh.refresh_from_db()
    returning.refresh_from_db()
    assert fresh.client is not None
    assert (fresh.client.first_name, fresh.client.phone) == ("Sage", "555-888-4321")
    assert returning.client is None
    assert Client.objects.exclude(pk__in=[existing.pk, fresh.client.pk]).count() == 0
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("may already be a client" in text for text in texts)


def test_inquiry_search_finds_a_clients_inquiries_by_mrn(
    client: Any, coordinator: Any
) -> None:
    """Typing a client's MRN in the inquiry search lists that client's inquiries."""
    person = ClientFactory()
    theirs = InquiryFactory(client=person)
    InquiryFactory()
    client.force_login(coordinator)
    page = client.get(reverse("admin:intake_inquiry_changelist"), {"q": person.mrn})
    assert list(page.context["cl"].result_list) == [theirs]
