"""Two-factor sign-in (HIPAA 164.312(d), ONC 170.315(d)(13)): after the password, the
enrolment page or the code page and nothing else; recovery codes; throttling; the
superuser's reset; every step in the access audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin import site
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from iopclinic import roles
from iopclinic.models import AccessEvent
from tests.factories import ClientFactory, EnrollmentFactory
from tests.otp import code_for

pytestmark = [pytest.mark.django_db, pytest.mark.two_factor]

PASSWORD = "a two factor pass phrase 42"
ENROL = "/admin/two-factor/enrol/"
VERIFY = "/admin/two-factor/verify/"


@pytest.fixture
def therapist(make_staff: Any) -> Any:
    user = make_staff(roles.THERAPIST, username="newhire")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in_with_password(client: Client, username: str = "newhire") -> None:
    response = client.post(
        reverse("admin:login"), {"username": username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:500]


def enrol(client: Client, user: Any) -> list[str]:
    """Open the enrolment page, confirm with a code; returns the recovery codes."""
    assert client.get(ENROL).status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"code": code_for(device)})
    assert response.status_code == 200
    return list(response.context["codes"])


def events(user: Any, action: str) -> list[str]:
    return list(
        AccessEvent.objects.filter(user=user, action=action)
        .order_by("id")
        .values_list("outcome", flat=True)
    )


def test_a_new_staff_member_reaches_only_the_enrolment_page(
    client: Client, therapist: Any, superuser: Any
) -> None:
    """Every admin page, a client's record included, sends them to enrolment."""
    record = EnrollmentFactory(
        client=ClientFactory(last_name="Quillfeather"), primary_therapist=therapist
    ).client
    sign_in_with_password(client)
    pages = [
        reverse("admin:index"),
        reverse("admin:intake_client_changelist"),
        reverse("admin:intake_client_change", args=[record.pk]),
        reverse("admin:programs_enrollment_changelist"),
        reverse("admin:password_change"),
        "/admin/reports/enrollment/",
        "/admin/does-not-exist/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(ENROL), url
    posted = client.post(reverse("admin:intake_client_change", args=[record.pk]), {})
    assert posted["Location"] == ENROL

    page = client.get(ENROL)
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body and 'id="two-factor-secret"' in body
    assert "Quillfeather" not in body
    assert "Intake" not in body  # no navigation to the rest of the admin
    assert not AccessEvent.objects.filter(model_name="client").exists()


def test_enrolment_needs_a_right_code_then_shows_recovery_codes_once(
    client: Client, therapist: Any
) -> None:
    sign_in_with_password(client)
    client.get(ENROL)
    wrong = client.post(ENROL, {"code": "000000"})
    assert wrong.status_code == 200
    assert "did not match" in wrong.content.decode()
    assert client.get(reverse("admin:index"))["Location"].startswith(ENROL)

    device = TOTPDevice.objects.get(user=therapist)
    device.throttle_reset()
    codes = enrol(client, therapist)

    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=therapist).count() == 10
    assert client.get(reverse("admin:index")).status_code == 200
    # Shown once: the enrolment page is gone, and no page shows the codes again.
    assert client.get(ENROL)["Location"] == VERIFY
    assert codes[0] not in client.get(reverse("admin:index")).content.decode()
    assert events(therapist, "enrol_2fa") == ["invalid", "completed"]


def test_the_qr_code_is_inline_svg_and_the_page_keeps_the_strict_policy(
    client: Client, therapist: Any
) -> None:
    sign_in_with_password(client)
    response = client.get(ENROL)
    body = response.content.decode()
    assert "<svg" in body and "<img" not in body
    assert "style=" not in body.split('id="two-factor-qr"')[1].split("</div>")[0]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    # Reloading keeps the same secret until it is confirmed.
    assert TOTPDevice.objects.filter(user=therapist).count() == 1
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=therapist).count() == 1


def test_an_enrolled_user_signs_in_with_a_code_afterwards(
    client: Client, therapist: Any
) -> None:
    sign_in_with_password(client)
    enrol(client, therapist)
    client.post(reverse("admin:logout"))

    sign_in_with_password(client)
    target = reverse("admin:intake_client_changelist")
    response = client.get(target)
    assert response["Location"] == f"{VERIFY}?next=%2Fadmin%2Fintake%2Fclient%2F"
    assert client.get(VERIFY).status_code == 200

    wrong = client.post(VERIFY, {"code": "123456", "next": target})
    assert "not right" in wrong.content.decode()
    device = TOTPDevice.objects.get(user=therapist)
    device.throttle_reset()
    session_before = client.session.session_key
    right = client.post(
        VERIFY, {"code": code_for(device, steps_ahead=1), "next": target}
    )
    assert right.status_code == 302 and right["Location"] == target
    assert client.session.session_key != session_before  # a new session id
    assert client.get(target).status_code == 200
    assert events(therapist, "second_factor") == ["invalid", "completed"]
    assert events(therapist, "logout") == ["completed"]


def test_a_recovery_code_signs_in_once(client: Client, therapist: Any) -> None:
    sign_in_with_password(client)
    codes = enrol(client, therapist)
    client.post(reverse("admin:logout"))

    sign_in_with_password(client)
    response = client.post(VERIFY, {"code": codes[3].upper()})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    client.post(reverse("admin:logout"))

    sign_in_with_password(client)
    StaticDevice.objects.filter(user=therapist).update(throttling_failure_count=0)
    again = client.post(VERIFY, {"code": codes[3]})
    assert again.status_code == 200
    assert "already used" in again.content.decode()
    assert StaticToken.objects.filter(device__user=therapist).count() == 9


def test_wrong_codes_are_throttled_and_audited(client: Client, therapist: Any) -> None:
    """After a wrong code even the right one waits (1, 2, 4... seconds)."""
    sign_in_with_password(client)
    enrol(client, therapist)
    client.post(reverse("admin:logout"))
    sign_in_with_password(client)
    device = TOTPDevice.objects.get(user=therapist)

    for _ in range(3):
        client.post(VERIFY, {"code": "000000"})
    throttled = client.post(VERIFY, {"code": code_for(device, steps_ahead=1)})

    assert throttled.status_code == 200
    assert "Too many wrong codes" in throttled.content.decode()
    assert client.get(reverse("admin:index"))["Location"] == VERIFY
    outcomes = events(therapist, "second_factor")
    assert outcomes[-1] == "refused" and outcomes.count("invalid") >= 1

    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(hours=1)
    )
    ok = client.post(VERIFY, {"code": code_for(device, steps_ahead=1)})
    assert ok.status_code == 302


@pytest.mark.parametrize(
    "code", ["", "  ", "<script>", "1" * 200, "12345", "ü" * 6, "12 34 56x"]
)
def test_bad_codes_are_form_errors(client: Client, therapist: Any, code: str) -> None:
    sign_in_with_password(client)
    response = client.post(ENROL, {"code": code})
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/availability.json"]
)
def test_next_never_leaves_the_admin(
    client: Client, therapist: Any, target: str
) -> None:
    sign_in_with_password(client)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=therapist)
    client.post(ENROL, {"code": code_for(device)})
    client.post(reverse("admin:logout"))
    sign_in_with_password(client)
    response = client.post(
        VERIFY, {"code": code_for(device, steps_ahead=1), "next": target}
    )
    assert response["Location"] == reverse("admin:index")


def test_the_admin_site_refuses_an_unverified_user_even_without_the_middleware(
    therapist: Any,
) -> None:
    request = RequestFactory().get("/admin/")
    request.user = therapist
    therapist.is_verified = lambda: False
    assert site.has_permission(request) is False
    therapist.is_verified = lambda: True
    assert site.has_permission(request) is True


def test_a_superuser_resets_a_users_devices_and_ends_their_sessions(
    client: Client, therapist: Any, superuser: Any
) -> None:
    theirs = Client()
    sign_in_with_password(theirs)
    enrol(theirs, therapist)
    assert theirs.get(reverse("admin:index")).status_code == 200

    client.force_login(superuser)
    client.session.save()
    device = TOTPDevice.objects.create(user=superuser, name="app", confirmed=True)
    client.post(reverse("admin:logout"))
    client.force_login(superuser)
    client.get(reverse("admin:index"))
    client.post(VERIFY, {"code": code_for(device)})
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [therapist.pk]},
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=therapist).exists()
    assert not StaticDevice.objects.filter(user=therapist).exists()
    assert theirs.get(reverse("admin:index"))["Location"].startswith(
        reverse("admin:login")
    )
    reset = AccessEvent.objects.get(action="reset_2fa")
    assert (reset.user, reset.object_id) == (superuser, str(therapist.pk))
    # At the next sign-in they set up a new authenticator.
    sign_in_with_password(theirs)
    assert theirs.get(reverse("admin:index"))["Location"] == ENROL


def test_only_a_superuser_may_reset_devices(make_staff: Any) -> None:
    from django.contrib.auth.models import Permission, User

    staff = make_staff()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    staff = User.objects.get(pk=staff.pk)
    request = RequestFactory().post("/admin/auth/user/")
    request.user = staff
    model_admin = site._registry[User]
    assert "reset_two_factor" not in model_admin.get_actions(request)


def test_device_admins_are_not_registered() -> None:
    """They would show authenticator secrets and recovery codes."""
    assert not site.is_registered(TOTPDevice)
    assert not site.is_registered(StaticDevice)


def test_signing_out_is_audited(client: Client, therapist: Any) -> None:
    """Before the second factor too, from the enrolment page's own button."""
    sign_in_with_password(client)
    assert client.get(reverse("admin:two_factor_sign_out")).status_code == 405
    response = client.post(reverse("admin:two_factor_sign_out"))
    assert response["Location"] == reverse("admin:login")
    assert "_auth_user_id" not in client.session
    assert events(therapist, "logout") == ["completed"]


def test_a_user_who_lost_staff_status_meets_the_login_page_not_a_loop(
    client: Client, therapist: Any
) -> None:
    sign_in_with_password(client)
    therapist.is_staff = False
    therapist.save(update_fields=["is_staff"])
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
