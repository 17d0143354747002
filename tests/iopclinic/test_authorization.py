"""Every admin URL, asked by everyone, answers as the tables below say.

The URLs come from the admin site itself (``admin_world.admin_routes``): each
ModelAdmin's standard pages, its own ``get_urls()`` and the site's report pages. A URL
that none of the tables below describes fails ``test_every_admin_url_is_covered``
with its name: a new page is added to the suite before it ships.

The expected answers come from hand-written tables: the role x model matrix
(``test_roles.EXPECTED``), the superuser's row (``SUPERUSER``), which rows each user
reaches (``REACH``), the custom pages (``CUSTOM_VIEWS``) and the site's pages
(``SITE_VIEWS``). They never ask the code under test what it allows.

Beyond the GET of each URL: the privacy officer is refused every clinical page; the
emergency access holder reaches the one client of the grant, nothing else of
therapist A's caseload, and every page they see is flagged with the grant in the
access audit; the admin actions that are not pages (end and review an emergency
access, reset two-factor) work only for those who may use them; the two-factor pages
answer every kind of user with REQUIRE_2FA on.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from iopclinic import roles
from tests.iopclinic.admin_world import (
    ANONYMOUS,
    EMERGENCY,
    INACTIVE,
    OTHER_SENTINEL,
    SENTINEL,
    SUPERUSER,
    THERAPIST_A,
    THERAPIST_B,
    USER_KINDS,
    Route,
    World,
    admin_routes,
)
from tests.iopclinic.test_roles import EXPECTED

COORDINATOR = roles.INTAKE_COORDINATOR
THERAPIST = roles.THERAPIST
PSYCHIATRIST = roles.PSYCHIATRIST
MANAGER = roles.PROGRAM_MANAGER
PRIVACY = roles.PRIVACY_OFFICER

# The roles this file has expectations for. A role added to iopclinic.roles.ROLES
# fails test_every_role_has_expectations until it has a column in
# test_roles.EXPECTED and is named in CUSTOM_VIEWS / REACH where it applies.
KNOWN_ROLES = {COORDINATOR, THERAPIST, PSYCHIATRIST, MANAGER, PRIVACY}

# Answers. A redirect is told apart by where it goes.
OK = "200"
LOGIN = "login"  # 302 to the login page
DENIED = "403"
NOT_FOUND = "404"
NOT_ALLOWED = "405"
INDEX = "index"  # 302 to the admin index ("... doesn't exist. Perhaps it was deleted?")
REDIRECT = "redirect"  # 302 anywhere else
# A row the user may not reach: refused without saying whether it exists.
REFUSED = frozenset({DENIED, NOT_FOUND, INDEX})

# What the superuser may do per model where it is less than everything
# (v=view, a=add, c=change, d=delete): rows made only by a workflow, and logs.
EVERYTHING = "vacd"
SUPERUSER_LETTERS: dict[str, str] = {
    "intake.highriskinquiry": "vcd",  # an inquiry is added as an inquiry
    "programs.enrollment": "vcd",  # only admission makes one
    "programs.planreview": "vd",  # recorded from the plan's page, kept as written
    "programs.seatoffer": "vcd",  # offered from the waitlist
    # The world's plan is signed, its discharge plan and follow-up are records of
    # care: kept, even from a superuser.
    "programs.treatmentplan": "va",
    "discharge.dischargeplan": "vac",
    "discharge.followup": "vc",  # scheduled by the discharge
    "iopclinic.accessevent": "v",  # the audit trail is append-only
    "programs.emergencyaccess": "vac",  # kept for the review, even from a superuser
    "axes.accessattempt": "vd",
    "axes.accesslog": "vd",
    "axes.accessfailurelog": "vd",
}

# Which users reach the world's row of a model ("all": every user the model
# permission lets in). Caseload: the enrollment's therapist and psychiatrist, and
# those who see every enrollment; facilitator: the session's facilitator and those.
# The emergency access holder reaches the client of the grant's records (GRANTED),
# not the sessions therapist A facilitates. The grant itself: its holder, and the
# privacy officer who reviews every grant.
EVERY_ENROLLMENT = {COORDINATOR, MANAGER, SUPERUSER}
CASELOAD = EVERY_ENROLLMENT | {THERAPIST_A, PSYCHIATRIST}
GRANTED = CASELOAD | {EMERGENCY}
FACILITATOR = EVERY_ENROLLMENT | {THERAPIST_A}
REACH: dict[str, set[str]] = {
    "intake.client": GRANTED,
    "intake.consent": GRANTED,
    "programs.enrollment": GRANTED,
    "programs.treatmentplan": GRANTED,
    "programs.planreview": GRANTED,
    "programs.assessment": GRANTED,
    "programs.appointment": GRANTED,
    "programs.groupsession": FACILITATOR,
    "discharge.dischargeplan": GRANTED,
    "discharge.followup": GRANTED,
    "programs.emergencyaccess": {EMERGENCY, PRIVACY, SUPERUSER},
}
# Pages where the privacy officer reads a client's name and MRN: the audit rows and
# the grants they review.
AUDIT_MODELS = {"iopclinic.accessevent", "programs.emergencyaccess"}

# Pages a ModelAdmin adds: URL name -> (the user kinds it answers 200 to, given
# they reach the row; the answer they get). Everyone else is refused.
CLINICIANS = {THERAPIST, PSYCHIATRIST}
CUSTOM_VIEWS: dict[str, tuple[set[str], str]] = {
    # Change the inquiry and add a client: the coordinators.
    "intake_inquiry_client_record": ({COORDINATOR, SUPERUSER}, OK),
    # Change the session: whoever takes the roll.
    "programs_groupsession_attendance": ({*CLINICIANS, MANAGER, SUPERUSER}, OK),
    # The plan is signed (in force): it can be acknowledged, reviewed, revised,
    # printed; only a therapist signs, and "sign" on a signed plan shows the refusal.
    "programs_treatmentplan_sign": ({THERAPIST, SUPERUSER}, OK),
    "programs_treatmentplan_acknowledge": ({*CLINICIANS, SUPERUSER}, OK),
    "programs_treatmentplan_review": ({*CLINICIANS, SUPERUSER}, OK),
    "programs_treatmentplan_revise": ({*CLINICIANS, SUPERUSER}, OK),
    "programs_treatmentplan_print": ({*CLINICIANS, MANAGER, SUPERUSER}, OK),
    "discharge_dischargeplan_finalise": ({*CLINICIANS, SUPERUSER}, OK),
    "discharge_dischargeplan_client_copy": ({*CLINICIANS, MANAGER, SUPERUSER}, OK),
    "discharge_dischargeplan_referral_copy": ({*CLINICIANS, MANAGER, SUPERUSER}, OK),
    "programs_enrollment_discharge": ({*CLINICIANS, SUPERUSER}, OK),
    "programs_enrollment_step": ({*CLINICIANS, SUPERUSER}, OK),
    # A staff member's password: superusers only.
    "auth_user_password_change": ({SUPERUSER}, OK),
    # The audit report's CSV export: whoever reads the audit report.
    "iopclinic_accessevent_export": ({PRIVACY, SUPERUSER}, OK),
}

# The site's own pages: URL name -> answer for an active staff user. The manager
# reports are aggregates of clinical data: not the privacy officer's.
REPORT_READERS = {MANAGER, SUPERUSER}
SITE_VIEWS: dict[str, str] = {
    "index": OK,
    "login": INDEX,  # already signed in
    "logout": NOT_ALLOWED,  # POST only
    "password_change": OK,
    "password_change_done": OK,
    "autocomplete": DENIED,  # without its parameters; the real ones are below
    "jsi18n": OK,
    "view_on_site": NOT_FOUND,  # no model has a public page
    "app_list": "per app",
    "catch_all": NOT_FOUND,
    # Two-factor (iopclinic/signin.py), REQUIRE_2FA off here as in every test not
    # marked two_factor (the answers with it on: test_two_factor_pages_answer_...).
    # No authenticator yet: the code page sends to enrolment, which is open.
    "two_factor_verify": REDIRECT,
    "two_factor_enrol": OK,
    "two_factor_sign_out": NOT_ALLOWED,  # POST only
}
# Report pages and their CSV exports.
REPORT_PREFIX = "reports_"

# The standard ModelAdmin pages, by the end of their URL name.
MODEL_PAGES = ["changelist", "add", "history", "delete", "change", "simple_history"]


def model_page(route: Route) -> str | None:
    if route.model is None:
        return None
    if route.name is None:
        return "redirect" if route.view == "view" else None
    app_label, model_name = route.model.split(".")
    for page in MODEL_PAGES:
        if route.name == f"{app_label}_{model_name}_{page}":
            return page
    return None


def site_page(route: Route) -> str | None:
    if route.model is not None:
        return None
    if route.name is None and route.pattern.startswith("(?P<url>"):
        return "catch_all"
    if route.name and route.name.startswith(REPORT_PREFIX):
        return "report"
    if route.name in SITE_VIEWS:
        return route.name
    return None


ROUTES = admin_routes()


def autocomplete_sources() -> list[tuple[str, str, str]]:
    """(source model, field, target model) of every autocomplete field, inlines
    included."""
    found = set()
    for model, model_admin in admin.site._registry.items():
        owners = [(model, model_admin)] + [
            (inline.model, inline) for inline in model_admin.inlines
        ]
        for owner_model, owner in owners:
            for name in owner.autocomplete_fields:
                target = owner_model._meta.get_field(name).related_model
                assert target is not None and not isinstance(target, str)
                found.add(
                    (
                        owner_model._meta.label_lower,
                        name,
                        target._meta.label_lower,
                    )
                )
    return sorted(found)


AUTOCOMPLETES = autocomplete_sources()


# --- Expected answers ------------------------------------------------------------


def role_of(kind: str) -> str | None:
    if kind in (THERAPIST_A, THERAPIST_B, EMERGENCY):
        return THERAPIST
    return kind if kind in roles.ROLES else None


def letters(kind: str, model: str) -> str:
    if kind == SUPERUSER:
        return SUPERUSER_LETTERS.get(model, EVERYTHING)
    role = role_of(kind)
    return EXPECTED[model][role] if role else ""


def reaches(kind: str, model: str) -> bool:
    if model not in REACH:
        return True
    return kind in REACH[model] or role_of(kind) in REACH[model]


def in_group(kind: str, allowed: set[str]) -> bool:
    return kind in allowed or role_of(kind) in allowed


def names_seen(kind: str, route: Route) -> set[str]:
    """The world's client names ``kind`` may read on the page of ``route``."""
    if kind in CASELOAD:
        return {SENTINEL, OTHER_SENTINEL}
    if role_of(kind) == PRIVACY and route.model in AUDIT_MODELS:
        return {SENTINEL, OTHER_SENTINEL}
    if kind == EMERGENCY:
        return {SENTINEL}
    return set()


def expected(kind: str, route: Route) -> frozenset[str]:
    """The answers ``kind`` may get to a GET of ``route``."""
    if kind in (ANONYMOUS, INACTIVE):
        if route.name == "login":
            return frozenset({OK})
        if site_page(route) == "app_list":
            return frozenset({LOGIN})
        if route.name == "logout":
            return frozenset({INDEX})
        if route.name == "two_factor_sign_out":
            return frozenset({NOT_ALLOWED})
        if site_page(route) == "catch_all":
            return frozenset({LOGIN, NOT_FOUND})
        return frozenset({LOGIN})
    site = site_page(route)
    if site == "report":
        return frozenset({OK if in_group(kind, REPORT_READERS) else DENIED})
    if site == "app_list":
        return frozenset({OK, NOT_FOUND})  # checked per app in the test
    if site is not None:
        return frozenset({SITE_VIEWS[site]})
    assert route.model is not None
    allowed = letters(kind, route.model)
    reach = reaches(kind, route.model)
    page = model_page(route)
    if page == "changelist":
        return frozenset({OK if set("vc") & set(allowed) else DENIED})
    if page == "add":
        return frozenset({OK if "a" in allowed else DENIED})
    if page == "redirect":
        # "<id>/" only points at "<id>/change/", which decides.
        return frozenset({REDIRECT})
    if page in ("change", "history", "simple_history"):
        if not set("vc") & set(allowed):
            return frozenset({DENIED})
        if not reach:
            return REFUSED
        return frozenset({OK})
    if page == "delete":
        if "d" not in allowed:
            return frozenset({DENIED})
        return frozenset({OK}) if reach else REFUSED
    assert route.name is not None
    who, answer = CUSTOM_VIEWS[route.name]
    if not reach:
        return REFUSED
    return frozenset({answer if in_group(kind, who) else DENIED})


# The models whose world row is a record of the client of the emergency access.
GRANTED_MODELS = {model for model, kinds in REACH.items() if EMERGENCY in kinds}


def assert_flagged(world: World, route: Route) -> None:
    """The page just seen by the emergency access holder is in the access audit
    with the grant it was seen under."""
    from iopclinic.models import AccessEvent

    event = (
        AccessEvent.objects.filter(user=world.users[EMERGENCY]).order_by("-pk").first()
    )
    assert event is not None, route.key
    assert event.page == (route.name or ""), (route.key, event.page)
    assert world.grant is not None
    assert event.emergency_access_id == world.grant.pk, (route.key, event.action)


# --- The world, once per module ---------------------------------------------------


def client_for(world: World, kind: str) -> Client:
    return world.clients[kind]


def url_for(world: World, route: Route) -> str:
    """The route with the world's row (or a page's parameters) filled in."""
    site = site_page(route)
    if site == "catch_all":
        return "/admin/no-such-page/"
    if site == "app_list":
        return "/admin/intake/"
    if site == "view_on_site":
        row = world.rows["intake.client"]
        content_type = ContentType.objects.get_for_model(row)
        return reverse("admin:view_on_site", args=[content_type.pk, row.pk])
    if route.model is None:
        return reverse(f"admin:{route.name}")
    row = world.rows[route.model]
    page = model_page(route)
    if page in ("changelist", "add"):
        return reverse(f"admin:{route.name}")
    if page == "redirect":
        app_label, model_name = route.model.split(".")
        return reverse(
            f"admin:{app_label}_{model_name}_change", args=[row.pk]
        ).removesuffix("change/")
    if page == "simple_history":
        return reverse(
            f"admin:{route.name}", args=[row.pk, world.versions[route.model]]
        )
    if "<" not in route.pattern:
        return reverse(f"admin:{route.name}")  # a page about no one row (an export)
    if route.name == "discharge_dischargeplan_referral_copy":
        assert world.referral is not None
        return reverse(f"admin:{route.name}", args=[row.pk, world.referral.pk])
    return reverse(f"admin:{route.name}", args=[row.pk])


def answer(response: Any) -> str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return LOGIN
        if location == reverse("admin:index"):
            return INDEX
        return REDIRECT
    return str(response.status_code)


def table_counts() -> dict[str, int]:
    """Rows in every admin model's table (the audit trail aside: every page writes
    it), in one query."""
    tables = sorted(
        {
            model._meta.db_table
            for model in admin.site._registry
            if model._meta.label_lower != "iopclinic.accessevent"
        }
    )
    quote = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


def row_state(world: World, model: str) -> list[dict[str, Any]]:
    row = world.rows[model]
    return list(type(row)._default_manager.filter(pk=row.pk).values())


# --- Coverage ---------------------------------------------------------------------


def test_every_role_has_expectations() -> None:
    """A new role in iopclinic.roles.ROLES must be given expectations here."""
    assert set(roles.ROLES) == KNOWN_ROLES, (
        "Give the new role its column in test_roles.EXPECTED and its place in "
        "CUSTOM_VIEWS, REACH and REPORT_READERS, then add it to KNOWN_ROLES."
    )


def test_every_admin_url_is_covered() -> None:
    """Each URL pattern of the admin site is a standard page of a registered model,
    a custom page in CUSTOM_VIEWS, or a site page in SITE_VIEWS / the reports."""
    uncovered = [
        route.key
        for route in ROUTES
        if model_page(route) is None
        and site_page(route) is None
        and route.name not in CUSTOM_VIEWS
    ]
    assert uncovered == [], f"Add these admin URLs to test_authorization: {uncovered}"
    stale = set(CUSTOM_VIEWS) - {route.name for route in ROUTES}
    assert not stale, f"No such admin URL any more: {stale}"


def test_every_model_has_its_pages() -> None:
    """Every registered model is reached through its changelist, add and change."""
    for model in admin.site._registry:
        label = model._meta.label_lower
        pages = {model_page(r) for r in ROUTES if r.model == label}
        assert {"changelist", "add", "change", "history", "delete"} <= pages, label


# --- The suite --------------------------------------------------------------------

CASES = [(kind, route) for route in ROUTES for kind in USER_KINDS]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "route"), CASES, ids=[f"{k}-{r.key}" for k, r in CASES]
)
def test_admin_url_answers_as_expected(world: World, kind: str, route: Route) -> None:
    """GET answers as the tables say; a refused POST changes nothing; never a 500;
    a user outside therapist A's caseload never sees its client's name."""
    client = client_for(world, kind)
    url = url_for(world, route)
    response = client.get(url)
    wanted = expected(kind, route)
    if site_page(route) == "app_list" and kind not in (ANONYMOUS, INACTIVE):
        visible = any(letters(kind, m) for m in EXPECTED if m.startswith("intake."))
        wanted = frozenset({OK if visible else NOT_FOUND})
    got = answer(response)
    assert got in wanted, f"GET {url} as {kind}: {got}, expected {sorted(wanted)}"
    if response.status_code == 200:
        body = response.content.decode(errors="replace")
        for name in {SENTINEL, OTHER_SENTINEL} - names_seen(kind, route):
            assert name not in body, (url, kind, name)
    if kind == EMERGENCY and got == OK and route.model in GRANTED_MODELS:
        assert_flagged(world, route)

    if got in (OK, REDIRECT) and model_page(route) != "simple_history":
        return
    # Refused (or a read-only page): a POST is refused as well and changes nothing.
    if route.model is None or route.name in ("login", "logout"):
        return
    before = table_counts(), row_state(world, route.model)
    posted = client.post(url, {"post": "yes", "_save": "Save", "note": "changed"})
    after = table_counts(), row_state(world, route.model)
    assert posted.status_code < 500, f"POST {url} as {kind}: {posted.status_code}"
    if model_page(route) == "simple_history" and got == OK:
        assert answer(posted) == DENIED, f"POST {url} as {kind}: version saved"
    else:
        assert answer(posted) in REFUSED | {LOGIN}, f"POST {url} as {kind}"
    assert after == before, f"POST {url} as {kind} changed data"


AUTOCOMPLETE_CASES = [(kind, source) for source in AUTOCOMPLETES for kind in USER_KINDS]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "source"),
    AUTOCOMPLETE_CASES,
    ids=[f"{k}-{s[0]}.{s[1]}" for k, s in AUTOCOMPLETE_CASES],
)
def test_autocomplete_answers_as_expected(
    world: World, kind: str, source: tuple[str, str, str]
) -> None:
    """The autocomplete of each field answers those who may view the related model,
    and lists only the rows they reach."""
    source_model, field_name, target = source
    app_label, model_name = source_model.split(".")
    response = client_for(world, kind).get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name},
    )
    if kind in (ANONYMOUS, INACTIVE):
        assert answer(response) == LOGIN
        return
    may_view = bool(set("vc") & set(letters(kind, target)))
    assert answer(response) == (OK if may_view else DENIED), (kind, source)
    if may_view:
        ids = {row["id"] for row in response.json()["results"]}
        row = world.rows[target]
        assert (str(row.pk) in ids) == reaches(kind, target), (kind, source, ids)


@pytest.mark.django_db
def test_object_urls_with_garbage_ids_never_fail(world: World) -> None:
    """Ids that cannot be a primary key, in every URL that takes one: no 500."""
    client = Client(raise_request_exception=False)
    client.force_login(world.users[SUPERUSER])
    failures = []
    for route in ROUTES:
        if route.model is None or model_page(route) in ("changelist", "add"):
            continue
        base = url_for(world, route)
        row = world.rows[route.model]
        for garbage in ("abc", "99999999999999999999", "%00"):
            url = base.replace(f"/{row.pk}/", f"/{garbage}/", 1)
            for method in (client.get, client.post):
                # Each request in a savepoint of its own: one failure would
                # otherwise break the transaction for every request after it.
                with transaction.atomic():
                    status = method(url).status_code
                    transaction.set_rollback(True)
                if status >= 500:
                    failures.append(f"{method.__name__.upper()} {url}: {status}")
    assert failures == [], "\n".join(failures)


# --- The privacy officer: nothing clinical ------------------------------------------

CLINICAL_APPS = ("intake.", "programs.", "discharge.")


@pytest.mark.django_db
def test_the_privacy_officer_is_refused_every_clinical_page(world: World) -> None:
    """Every page of a clinical model (the grants they review aside) and every
    manager report refuses the privacy officer, whatever the tables above say."""
    client = client_for(world, PRIVACY)
    opened = []
    for route in ROUTES:
        clinical = (route.model or "").startswith(CLINICAL_APPS)
        if route.model == "programs.emergencyaccess":
            continue
        if not clinical and site_page(route) != "report":
            continue
        url = url_for(world, route)
        response = client.get(url, follow=model_page(route) == "redirect")
        got = answer(response)
        if getattr(response, "redirect_chain", None) and got == OK:
            got = REDIRECT  # "<id>/" followed to a page that answered
        if got not in REFUSED:
            opened.append(f"{url}: {got}")
    assert opened == [], "\n".join(opened)


# --- Emergency access: the client of the grant, nothing else ------------------------


def change_url(row: Any) -> str:
    opts = row._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])


@pytest.mark.django_db
def test_emergency_access_reaches_nothing_else_of_the_caseload(world: World) -> None:
    """Therapist A's other client, their consent, enrollment and measures stay
    refused to the holder of a grant to A's first client; the lists show only the
    client of the grant."""
    holder, therapist_a = client_for(world, EMERGENCY), client_for(world, THERAPIST_A)
    for row in world.other.values():
        url = change_url(row)
        assert answer(therapist_a.get(url)) == OK, url
        assert answer(holder.get(url)) in REFUSED, url
    for label in ("intake.client", "programs.enrollment", "intake.consent"):
        app_label, model_name = label.split(".")
        page = holder.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
        body = page.content.decode()
        assert SENTINEL in body and OTHER_SENTINEL not in body, label


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["ended", "expired"])
def test_emergency_access_ends_with_the_grant(world: World, how: str) -> None:
    """Once the grant is ended early or has expired, the client's records are
    refused again (nothing stays in a cache or a session)."""
    from programs.models import EmergencyAccess

    assert world.grant is not None
    holder = client_for(world, EMERGENCY)
    urls = [change_url(world.rows[label]) for label in sorted(GRANTED_MODELS)]
    urls.remove(change_url(world.grant))
    assert all(answer(holder.get(url)) == OK for url in urls)
    now = timezone.now()
    grants = EmergencyAccess.objects.filter(pk=world.grant.pk)
    if how == "ended":
        grants.update(ended_at=now)
    else:
        grants.update(
            started_at=now - EmergencyAccess.MAX_DURATION,
            expires_at=now - datetime.timedelta(seconds=1),
        )
    refused = [url for url in urls if answer(holder.get(url)) not in REFUSED]
    assert refused == []


# --- Actions that are not pages ------------------------------------------------------

SIGNED_IN = [kind for kind in USER_KINDS if kind not in (ANONYMOUS, INACTIVE)]


def offered_actions(response: Any) -> set[str]:
    if response.status_code != 200 or response.context.get("action_form") is None:
        return set()
    return {
        value
        for value, _ in response.context["action_form"].fields["action"].choices
        if value
    }


@pytest.mark.django_db
@pytest.mark.parametrize("kind", USER_KINDS)
@pytest.mark.parametrize("action", ["end_now", "mark_reviewed"])
def test_emergency_access_actions(world: World, kind: str, action: str) -> None:
    """ "End my emergency access" is offered to those who may request one and ends
    only their own grant; "mark reviewed" is the reviewers' (privacy officer,
    superuser). A crafted POST by anyone else changes nothing."""
    from programs.models import EmergencyAccess

    assert world.grant is not None
    client = client_for(world, kind)
    url = reverse("admin:programs_emergencyaccess_changelist")
    may = "a" if action == "end_now" else "c"
    allowed = may in letters(kind, "programs.emergencyaccess")
    assert (action in offered_actions(client.get(url))) == allowed, kind
    before = EmergencyAccess.objects.get(pk=world.grant.pk)
    response = client.post(
        url, {"action": action, "_selected_action": [world.grant.pk], "index": 0}
    )
    assert response.status_code < 500
    after = EmergencyAccess.objects.get(pk=world.grant.pk)
    if action == "end_now":
        assert (after.ended_at is not None) == (kind == EMERGENCY), kind
    else:
        assert after.is_reviewed == in_group(kind, {PRIVACY, SUPERUSER}), kind
        assert after.is_reviewed or after.reviewed_by_id == before.reviewed_by_id


@pytest.mark.django_db
@pytest.mark.parametrize("kind", USER_KINDS)
def test_reset_two_factor_is_a_superusers_action(world: World, kind: str) -> None:
    """The user admin's "reset two-factor sign-in": offered to a superuser only, and
    a crafted POST by anyone else keeps the staff member's authenticator."""
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = User.objects.create_user("has_an_authenticator", is_staff=True)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client = client_for(world, kind)
    url = reverse("admin:auth_user_changelist")
    offered = "reset_two_factor" in offered_actions(client.get(url))
    assert offered == (kind == SUPERUSER), kind
    response = client.post(
        url, {"action": "reset_two_factor", "_selected_action": [staff.pk], "index": 0}
    )
    assert response.status_code < 500
    kept = TOTPDevice.objects.filter(pk=device.pk).exists()
    assert kept == (kind != SUPERUSER), kind


# --- Two-factor pages with REQUIRE_2FA on ------------------------------------------

ENROL, VERIFY = "enrol", "verify"
TWO_FACTOR_PAGES = [
    "index",
    "two_factor_verify",
    "two_factor_enrol",
    "two_factor_sign_out",
]


def two_factor_answer(response: Any) -> str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:two_factor_enrol")):
            return ENROL
        if location.startswith(reverse("admin:two_factor_verify")):
            return VERIFY
    return answer(response)


def two_factor_expected(kind: str, page: str, has_device: bool) -> str:
    if page == "two_factor_sign_out":
        return NOT_ALLOWED  # a GET, for anyone: sign-out is a POST
    if kind in (ANONYMOUS, INACTIVE):
        return LOGIN
    if not has_device:
        return OK if page == "two_factor_enrol" else ENROL
    return OK if page == "two_factor_verify" else VERIFY


@pytest.mark.django_db
@pytest.mark.two_factor
@pytest.mark.parametrize("has_device", [False, True], ids=["new", "enrolled"])
@pytest.mark.parametrize("kind", USER_KINDS)
def test_two_factor_pages_answer_every_kind(
    world: World, kind: str, has_device: bool
) -> None:
    """With REQUIRE_2FA on, before the second factor: a visitor is sent to the login
    page; a staff member without an authenticator reaches only enrolment, one with
    an authenticator only the code page; sign-out takes a POST."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    if kind != ANONYMOUS:
        client.force_login(world.users[kind])
        if has_device:
            TOTPDevice.objects.create(
                user=world.users[kind], name="phone", confirmed=True
            )
    got = {
        page: two_factor_answer(client.get(reverse(f"admin:{page}")))
        for page in TWO_FACTOR_PAGES
    }
    wanted = {
        page: two_factor_expected(kind, page, has_device) for page in TWO_FACTOR_PAGES
    }
    assert got == wanted


@pytest.mark.django_db
@pytest.mark.two_factor
@pytest.mark.parametrize("kind", USER_KINDS)
def test_recovery_codes_are_shown_once_at_enrolment(world: World, kind: str) -> None:
    """The recovery codes are the answer to the enrolment's confirming code, for the
    staff member enrolling and only then; a visitor's POST is sent to the login
    page and makes nothing."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.otp import code_for

    client = Client()
    url = reverse("admin:two_factor_enrol")
    if kind in (ANONYMOUS, INACTIVE):
        if kind == INACTIVE:
            client.force_login(world.users[kind])
        assert answer(client.post(url, {"code": "123456"})) == LOGIN
        assert not StaticDevice.objects.exists()
        return
    user = world.users[kind]
    client.force_login(user)
    assert answer(client.get(url)) == OK
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    shown = client.post(url, {"code": code_for(device)})
    assert shown.status_code == 200
    codes = list(shown.context["codes"])
    assert len(codes) == 10
    assert StaticDevice.objects.get(user=user).token_set.count() == 10
    again = client.get(url)
    assert two_factor_answer(again) == VERIFY
    assert codes[0] not in client.get(reverse("admin:index")).content.decode()


@pytest.mark.django_db
@pytest.mark.two_factor
@pytest.mark.parametrize("kind", USER_KINDS)
def test_two_factor_sign_out_ends_the_session(world: World, kind: str) -> None:
    """Sign-out (POST) from the two-factor pages ends any session: the admin then
    asks for the password."""
    client = Client()
    if kind != ANONYMOUS:
        client.force_login(world.users[kind])
    assert answer(client.post(reverse("admin:two_factor_sign_out"))) == LOGIN
    assert answer(client.get(reverse("admin:index"))) == LOGIN
