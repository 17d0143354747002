"""Sign-in beyond the password: two-factor (TOTP and recovery codes) and session limits.

After the password, a staff member whose session is not OTP-verified reaches only the
page that asks for a code, or, without a confirmed authenticator, the enrolment page
(``REQUIRE_2FA``, on by default with DEBUG off). ``RequireTwoFactorMiddleware`` sends
every other admin URL there, and ``ClinicAdminSite.has_permission`` refuses them too, so
a view that slips past the middleware still shows nothing.

``SessionLimitsMiddleware`` ends a session ``SESSION_ABSOLUTE_SECONDS`` after sign-in,
however busy it was (the idle timeout is Django's sliding cookie age).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AccessAction, AccessEvent, AccessOutcome

SIGNED_IN_AT = "iopclinic_signed_in_at"
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def two_factor_required() -> bool:
    return bool(getattr(settings, "REQUIRE_2FA", True))


def is_verified(user: Any) -> bool:
    """True when this request's user proved a second factor in this session."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def two_factor_satisfied(request: HttpRequest) -> bool:
    """Whether the second factor no longer stands between this request and the
    admin."""
    return not two_factor_required() or is_verified(request.user)


def _audit(
    user: Any,
    action: AccessAction,
    outcome: AccessOutcome,
    *,
    subject: Any = None,
    page: str = "",
) -> None:
    AccessEvent.record(
        user=user,
        action=action,
        app_label="auth",
        model_name="user",
        object_id=str((subject or user).pk),
        page=page,
        outcome=outcome,
    )


# --- Middleware ---------------------------------------------------------------------


class SessionLimitsMiddleware:
    """End a session ``SESSION_ABSOLUTE_SECONDS`` after sign-in (ASVS 3.3.4), however
    active it was; the idle timeout is the session cookie's sliding age."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            signed_in_at = request.session.get(SIGNED_IN_AT)
            now = time.time()
            if not isinstance(signed_in_at, int | float):
                # A session from before this middleware: its lifetime starts now.
                request.session[SIGNED_IN_AT] = now
            elif now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(
                    request,
                    "Your session reached its time limit. Please sign in again.",
                )
                return redirect(
                    f"{reverse('admin:login')}?{urlencode({'next': request.path})}"
                )
        return self.get_response(request)


# Admin pages an unverified user may reach: the two-factor pages and sign-out.
ALLOWED_BEFORE_SECOND_FACTOR = {
    "admin:two_factor_verify",
    "admin:two_factor_enrol",
    # The admin's own logout view is behind has_permission: this one is not.
    "admin:two_factor_sign_out",
}


class RequireTwoFactorMiddleware:
    """Send a signed-in but not yet OTP-verified user to the code or enrolment page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path.startswith("/admin/")
            and request.user.is_authenticated
            # Non-staff never pass the admin's own check: its login page says so.
            and request.user.is_staff
            and not two_factor_satisfied(request)
        ):
            if request.path in _allowed_paths():
                return self.get_response(request)
            target = (
                "admin:two_factor_verify"
                if user_has_device(request.user)
                else "admin:two_factor_enrol"
            )
            url = reverse(target)
            if request.method == "GET" and request.path != reverse("admin:index"):
                url += "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(url)
        return self.get_response(request)


def _allowed_paths() -> set[str]:
    return {reverse(name) for name in ALLOWED_BEFORE_SECOND_FACTOR}


# --- Signals: when the session's clock starts (sign-ins and -outs are audited in
# iopclinic/signals.py) --------------------------------------------------------------


@receiver(user_logged_in)
def _start_session_clock(
    sender: Any, request: HttpRequest, user: Any, **_: Any
) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()


# --- Forms --------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "inputmode": "text",
                "size": 12,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split()).lower()
        if not code.isalnum():
            raise forms.ValidationError("Enter the code as shown, letters and digits.")
        return code


def _is_totp_code(code: str) -> bool:
    return code.isdigit() and len(code) == 6


def _throttled(device: Any) -> bool:
    allowed, _ = device.verify_is_allowed()
    return not allowed


def _check_code(user: Any, code: str) -> tuple[Any, bool]:
    """The device that accepts ``code`` (TOTP for six digits, else a recovery code),
    and whether the device refused to try because of earlier failures."""
    wanted = TOTPDevice if _is_totp_code(code) else StaticDevice
    with transaction.atomic():
        devices = [
            d for d in devices_for_user(user, for_verify=True) if isinstance(d, wanted)
        ]
        throttled = bool(devices) and all(_throttled(d) for d in devices)
        for device in devices:
            if device.verify_token(code):
                return device, False
    return None, throttled


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) and target.startswith("/admin/"):
        return target
    return reverse("admin:index")


def _complete_second_factor(request: HttpRequest, device: Any) -> None:
    # A new session id once the second factor is proved (ASVS 3.2.1).
    request.session.cycle_key()
    otp_login(request, device)


# --- Views --------------------------------------------------------------------------


def _context(site: Any, request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        **site.each_context(request),
        "next": _next_url(request),
        **extra,
    }


@sensitive_post_parameters("code")
@never_cache
def verify_view(request: HttpRequest, site: Any) -> HttpResponse:
    """Ask a signed-in user with a confirmed authenticator for a code."""
    if not request.user.is_authenticated or not request.user.is_staff:
        return redirect("admin:login")
    if is_verified(request.user):
        return HttpResponseRedirect(_next_url(request))
    if not user_has_device(request.user):
        return redirect("admin:two_factor_enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, throttled = _check_code(request.user, form.cleaned_data["code"])
        if device is not None:
            _audit(
                request.user,
                AccessEvent.Action.SECOND_FACTOR,
                AccessEvent.Outcome.COMPLETED,
                page="two_factor_verify",
            )
            _complete_second_factor(request, device)
            return HttpResponseRedirect(_next_url(request))
        _audit(
            request.user,
            AccessEvent.Action.SECOND_FACTOR,
            AccessEvent.Outcome.REFUSED if throttled else AccessEvent.Outcome.INVALID,
            page="two_factor_verify",
        )
        form.add_error(
            "code",
            "Too many wrong codes: wait a minute, then try again with a new code."
            if throttled
            else "That code is not right, or it was already used. Try the current one.",
        )
    return TemplateResponse(
        request,
        "admin/two_factor/verify.html",
        _context(site, request, form=form, title="Enter your sign-in code"),
    )


def _pending_device(user: Any) -> TOTPDevice:
    """The user's unconfirmed authenticator, made once so the QR code stays put across
    reloads until it is confirmed."""
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    )
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=TOTP_DEVICE_NAME, confirmed=False
        )
    return device


def qr_code_svg(url: str) -> str:
    """The otpauth URL as an inline SVG QR code: no image request, no inline style."""
    image = qrcode.make(
        url, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8
    )
    return image.to_string(encoding="unicode")


def _secret_for_typing(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def make_recovery_codes(user: Any) -> list[str]:
    """Replace the user's recovery codes with a fresh set and return them (shown
    once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(
        user=user, name=RECOVERY_DEVICE_NAME, confirmed=True
    )
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=code) for code in codes]
    )
    return codes


@sensitive_post_parameters("code")
@never_cache
def enrol_view(request: HttpRequest, site: Any) -> HttpResponse:
    """Set up an authenticator app: QR code and typed secret, then a code to confirm."""
    if not request.user.is_authenticated or not request.user.is_staff:
        return redirect("admin:login")
    if user_has_device(request.user):
        # Adding a device needs the current one: a reset by a superuser comes first.
        return redirect("admin:two_factor_verify")
    form = CodeForm(request.POST or None)
    with transaction.atomic():
        device = _pending_device(request.user)
        if request.method == "POST" and form.is_valid():
            code = form.cleaned_data["code"]
            if _is_totp_code(code) and device.verify_token(code):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                # Another tab's unconfirmed key must not become a second way in.
                TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
                codes = make_recovery_codes(request.user)
                _audit(
                    request.user,
                    AccessEvent.Action.ENROL_2FA,
                    AccessEvent.Outcome.COMPLETED,
                    page="two_factor_enrol",
                )
                _complete_second_factor(request, device)
                return TemplateResponse(
                    request,
                    "admin/two_factor/recovery_codes.html",
                    _context(
                        site,
                        request,
                        codes=codes,
                        title="Your recovery codes",
                    ),
                )
            _audit(
                request.user,
                AccessEvent.Action.ENROL_2FA,
                AccessEvent.Outcome.INVALID,
                page="two_factor_enrol",
            )
            form.add_error(
                "code",
                "That code did not match. Check the phone's clock and type the "
                "current six digits.",
            )
    return TemplateResponse(
        request,
        "admin/two_factor/enrol.html",
        _context(
            site,
            request,
            form=form,
            title="Set up two-factor sign-in",
            qr_code=mark_safe(qr_code_svg(device.config_url)),  # noqa: S308
            secret=_secret_for_typing(device),
        ),
    )


@require_POST
@never_cache
def sign_out_view(request: HttpRequest, site: Any) -> HttpResponse:
    """Sign out from the two-factor pages, before the second factor."""
    logout(request)
    return redirect("admin:login")


# --- Administration: reset a user's devices and end their sessions -----------------


def end_sessions(user: Any) -> int:
    """Delete every stored session of ``user``; returns how many ended."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def reset_two_factor(actor: Any, user: Any) -> None:
    """Remove every authenticator and recovery code of ``user`` and end their
    sessions, so they enrol again at their next sign-in; audited."""
    with transaction.atomic():
        for device in list(devices_for_user(user, confirmed=None)):
            device.delete()
        end_sessions(user)
        _audit(
            actor,
            AccessEvent.Action.RESET_2FA,
            AccessEvent.Outcome.COMPLETED,
            subject=user,
            page="auth_user_changelist",
        )


__all__ = [
    "DEVICE_ID_SESSION_KEY",
    "RequireTwoFactorMiddleware",
    "SessionLimitsMiddleware",
    "end_sessions",
    "enrol_view",
    "reset_two_factor",
    "sign_out_view",
    "verify_view",
]
