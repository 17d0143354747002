"""Every admin URL, asked by everyone, answers as the tables below say.

The URLs come from the admin site itself (``admin_world.admin_routes``): each
ModelAdmin's standard pages, its own ``get_urls()`` and the site's report pages. A URL
that none of the tables below describes fails ``test_every_admin_url_is_covered``
with its name: a new page is added to the suite before it ships.

The expected answers come from hand-written tables: the role x model matrix
(``test_roles.EXPECTED``), the superuser's row (``SUPERUSER``), which rows each user
reaches (``REACH``), the custom pages (``CUSTOM_VIEWS``) and the site's pages
(``SITE_VIEWS``). They never ask the code under test what it allows.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from iopclinic import roles
from tests.iopclinic.admin_world import (
    ANONYMOUS,
    INACTIVE,
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

# The roles this file has expectations for. A role added to iopclinic.roles.ROLES
# (say "Privacy officer") fails test_every_role_has_expectations until it has a
# column in test_roles.EXPECTED and is named in CUSTOM_VIEWS / REACH where it applies.
KNOWN_ROLES = {COORDINATOR, THERAPIST, PSYCHIATRIST, MANAGER}

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
    "axes.accessattempt": "vd",
    "axes.accesslog": "vd",
    "axes.accessfailurelog": "vd",
}

# Which users reach the world's row of a model ("all": every user the model
# permission lets in). Caseload: the enrollment's therapist and psychiatrist, and
# those who see every enrollment; facilitator: the session's facilitator and those.
EVERY_ENROLLMENT = {COORDINATOR, MANAGER, SUPERUSER}
CASELOAD = EVERY_ENROLLMENT | {THERAPIST_A, PSYCHIATRIST}
FACILITATOR = EVERY_ENROLLMENT | {THERAPIST_A}
REACH: dict[str, set[str]] = {
    "intake.client": CASELOAD,
    "intake.consent": CASELOAD,
    "programs.enrollment": CASELOAD,
    "programs.treatmentplan": CASELOAD,
    "programs.planreview": CASELOAD,
    "programs.assessment": CASELOAD,
    "programs.appointment": CASELOAD,
    "programs.groupsession": FACILITATOR,
    "discharge.dischargeplan": CASELOAD,
    "discharge.followup": CASELOAD,
}

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
}

# The site's own pages: URL name -> answer for an active staff user.
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
    if kind in (THERAPIST_A, THERAPIST_B):
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


def expected(kind: str, route: Route) -> frozenset[str]:
    """The answers ``kind`` may get to a GET of ``route``."""
    if kind in (ANONYMOUS, INACTIVE):
        if route.name == "login":
            return frozenset({OK})
        if site_page(route) == "app_list":
            return frozenset({LOGIN})
        if route.name == "logout":
            return frozenset({INDEX})
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
    if kind not in CASELOAD and response.status_code == 200:
        assert SENTINEL not in response.content.decode(errors="replace"), url

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
