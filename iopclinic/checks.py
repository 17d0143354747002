"""The project's own production checks, for what ``check --deploy`` does not look at.

They run with ``manage.py check --deploy`` (``make check-deploy``, and before
``make serve`` starts gunicorn) and report errors, so an unsafe production
configuration fails loudly.
"""

from typing import Any, cast

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.csp import CSP

# HIPAA automatic logoff: an idle session ends within the hour.
MAX_IDLE_SECONDS = 60 * 60
MIN_PASSWORD_LENGTH = 12


@register(Tags.security, deploy=True)
def check_session_lifetime(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.SESSION_COOKIE_AGE > MAX_IDLE_SECONDS:
        errors.append(
            Error(
                f"SESSION_COOKIE_AGE is {settings.SESSION_COOKIE_AGE} seconds; an idle "
                f"session must end within {MAX_IDLE_SECONDS // 60} minutes.",
                hint="Set SESSION_IDLE_MINUTES to 60 or less (default 15).",
                id="iopclinic.E001",
            )
        )
    if not settings.SESSION_SAVE_EVERY_REQUEST:
        errors.append(
            Error(
                "SESSION_SAVE_EVERY_REQUEST is off, so the idle timeout does not "
                "slide: sessions end mid-work or outlive the idle limit.",
                id="iopclinic.E002",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_passwords(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    configured = cast(list[dict[str, Any]], settings.AUTH_PASSWORD_VALIDATORS)
    validators = {v["NAME"].rsplit(".", 1)[-1]: v for v in configured}
    min_length = validators.get("MinimumLengthValidator", {}).get("OPTIONS", {})
    if min_length.get("min_length", 8) < MIN_PASSWORD_LENGTH:
        errors.append(
            Error(
                f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters long.",
                hint="Configure MinimumLengthValidator with min_length >= 12.",
                id="iopclinic.E003",
            )
        )
    for name in ("CommonPasswordValidator", "UserAttributeSimilarityValidator"):
        if name not in validators:
            errors.append(
                Error(
                    f"{name} is missing from AUTH_PASSWORD_VALIDATORS.",
                    id="iopclinic.E004",
                )
            )
    if not settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher"):
        errors.append(
            Error("New passwords must be hashed with Argon2.", id="iopclinic.E005")
        )
    return errors


@register(Tags.security, deploy=True)
def check_production_database(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    engine = settings.DATABASES["default"]["ENGINE"]
    if not settings.DEBUG and "sqlite" in engine:
        return [
            Error(
                "The database is SQLite, which is for the demo only.",
                hint="Set DATABASE_URL to a PostgreSQL database (postgres://...).",
                id="iopclinic.E006",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_content_security_policy(
    app_configs: Any = None, **kwargs: Any
) -> list[Error]:
    policy = getattr(settings, "SECURE_CSP", {}) or {}
    errors = []
    if (
        "django.middleware.csp.ContentSecurityPolicyMiddleware"
        not in settings.MIDDLEWARE
    ):
        errors.append(
            Error(
                "The Content-Security-Policy middleware is not installed.",
                id="iopclinic.E007",
            )
        )
    for directive in ("script-src", "style-src"):
        sources = policy.get(directive, policy.get("default-src"))
        if not sources:
            errors.append(
                Error(f"SECURE_CSP sets no {directive}.", id="iopclinic.E008")
            )
        elif (
            CSP.UNSAFE_INLINE in sources or CSP.UNSAFE_EVAL in sources or "*" in sources
        ):
            errors.append(
                Error(
                    f"SECURE_CSP {directive} allows inline or eval'd code; "
                    "use the nonce.",
                    id="iopclinic.E008",
                )
            )
    return errors


# ASVS 3.3.4 / NIST 800-63B AAL2: re-authenticate at least every 12 hours.
MAX_ABSOLUTE_SESSION_SECONDS = 12 * 60 * 60
SIGNIN_MIDDLEWARE = [
    "django_otp.middleware.OTPMiddleware",
    "iopclinic.signin.SessionLimitsMiddleware",
    "iopclinic.signin.RequireTwoFactorMiddleware",
]


@register(Tags.security, deploy=True)
def check_two_factor(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    if not settings.DEBUG and not getattr(settings, "REQUIRE_2FA", False):
        errors.append(
            Error(
                "REQUIRE_2FA is off: staff would reach client records with a password "
                "alone (HIPAA 164.312(d)).",
                hint="Remove REQUIRE_2FA=false from the environment.",
                id="iopclinic.E009",
            )
        )
    missing = [name for name in SIGNIN_MIDDLEWARE if name not in settings.MIDDLEWARE]
    if missing:
        errors.append(
            Error(
                f"Sign-in middleware missing from MIDDLEWARE: {', '.join(missing)}.",
                id="iopclinic.E009",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_absolute_session_lifetime(
    app_configs: Any = None, **kwargs: Any
) -> list[Error]:
    lifetime = getattr(settings, "SESSION_ABSOLUTE_SECONDS", None)
    if lifetime is None or not 0 < lifetime <= MAX_ABSOLUTE_SESSION_SECONDS:
        return [
            Error(
                f"SESSION_ABSOLUTE_SECONDS is {lifetime}; a session must end within "
                f"{MAX_ABSOLUTE_SESSION_SECONDS // 3600} hours of sign-in.",
                hint="Set SESSION_ABSOLUTE_HOURS to 12 or less (default 12).",
                id="iopclinic.E010",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_debug_with_real_database(
    app_configs: Any = None, **kwargs: Any
) -> list[Error]:
    engine = settings.DATABASES["default"]["ENGINE"]
    if settings.DEBUG and "postgresql" in engine:
        return [
            Error(
                "DEBUG is on with a PostgreSQL database: the database for real client "
                "records, shown in error pages and without two-factor sign-in.",
                hint="DEBUG=true is for the SQLite demo only; unset it.",
                id="iopclinic.E011",
            )
        ]
    return []
