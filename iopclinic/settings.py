"""Settings for IOP Clinic: one file, every deployment difference comes from the
environment.

The defaults serve the zero-setup demo (SQLite, no secrets); a production start with
DEBUG off refuses to run without a SECRET_KEY, and `manage.py check --deploy` plus the
project's own checks (iopclinic/checks.py) reject an unsafe configuration.
"""

import os
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}."
        ) from None


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off IOP Clinic refuses to start without "
            "one: set SECRET_KEY in the environment (see .env.example), or set "
            "DEBUG=true for the local demo."
        )
    # Only ever used with DEBUG on, i.e. the local demo on generated data.
    SECRET_KEY = "django-insecure-demo-only-never-use-with-real-client-data"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

CLINIC_NAME = os.environ.get("CLINIC_NAME", "IOP Clinic")

INSTALLED_APPS = [
    # The branded site replaces django.contrib.admin (iopclinic/apps.py).
    "iopclinic.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "axes",
    # Two-factor sign-in (iopclinic/signin.py): authenticator apps and recovery codes.
    # Before iopclinic, whose admin unregisters their device admins (secrets).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "crispy_forms",
    "crispy_bootstrap5",
    "iopclinic",
    "intake",
    "programs",
    "discharge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After auth and messages: the second factor and the session's lifetime.
    "django_otp.middleware.OTPMiddleware",
    "iopclinic.signin.SessionLimitsMiddleware",
    "iopclinic.signin.RequireTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "iopclinic.middleware.NoStoreMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "iopclinic.urls"
WSGI_APPLICATION = "iopclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: the demo runs on a SQLite file; real use sets DATABASE_URL to PostgreSQL.
DEMO_DATABASE_PATH = BASE_DIR / "var" / "demo.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DEMO_DATABASE_PATH}",
        # Reusing connections saves ~5 ms a request (shared/NOTES.md).
        conn_max_age=env_int("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so the demo serialises writes the way row
    # locks do on PostgreSQL instead of failing with "database is locked"
    # mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    if DATABASES["default"]["NAME"] == str(DEMO_DATABASE_PATH):
        DEMO_DATABASE_PATH.parent.mkdir(exist_ok=True)
    # A fresh connection per thread is cheap for a local file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Passwords: Argon2 first (OWASP's first choice); the others only to read old hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
MINIMUM_PASSWORD_LENGTH = 12
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": (
            "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
        )
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": MINIMUM_PASSWORD_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out username/IP pair never reaches the password
    # check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Two-factor sign-in (HIPAA 164.312(d); iopclinic/signin.py): every staff sign-in needs
# a code from an authenticator app or a recovery code. On unless DEBUG; a production
# start with it off fails (E009).
REQUIRE_2FA = env_bool("REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = CLINIC_NAME
# Wrong codes wait 1, 2, 4, 8... seconds before the next try (per device).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Login throttling: five failures lock that username from that address for 30 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False
# The access audit records REMOTE_ADDR; behind the one trusted proxy, the address that
# proxy appended to X-Forwarded-For instead (iopclinic/sites.py, client_ip).
AUDIT_TRUST_X_FORWARDED_FOR = env_bool("BEHIND_PROXY")
if env_bool("BEHIND_PROXY"):
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# Sessions: a sliding idle timeout (HIPAA 164.312(a)(2)(iii) automatic logoff). Every
# request renews the cookie, so the session ends SESSION_IDLE_MINUTES after the last
# click.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# An absolute lifetime as well (ASVS 3.3.4): a session ends this long after sign-in
# however active it was (iopclinic.signin.SessionLimitsMiddleware; 12 hours at most,
# E010).
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_HOURS", 12) * 3600
SESSION_COOKIE_SAMESITE = "Lax"

# Transport security: on unless DEBUG (the demo runs on plain http://127.0.0.1).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_PROXY"):
    # Only behind a TLS-terminating proxy that sets this header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy: nothing inline without the per-request nonce, nothing from
# another origin. The stock admin runs clean under it (shared/NOTES.md).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LANGUAGE_CODE = "en-us"
CLINIC_TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "America/New_York")
try:
    zoneinfo.ZoneInfo(CLINIC_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"CLINIC_TIME_ZONE={CLINIC_TIME_ZONE!r} is not an IANA time zone "
        "(for example America/New_York)."
    ) from None
TIME_ZONE = CLINIC_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Widgets, labels and empty error lists written in Python: the long admin forms render
# in half the time, to the same HTML (iopclinic/forms.py).
FORM_RENDERER = "iopclinic.forms.ClinicFormRenderer"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Change history (django-simple-history): a revert would rewrite a clinical record from
# an old version without review, so it is off.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGIN_URL = "admin:login"

# Days a seat offer holds its seat before `manage.py expire_offers` frees it
# (DOMAIN.md section 2: default 3).
SEAT_OFFER_DAYS = env_int("SEAT_OFFER_DAYS", 3)
# Days an enrollment on hold (e.g. a short hospital stay) keeps its seat before the hold
# is flagged for a decision.
HOLD_SEAT_DAYS = env_int("HOLD_SEAT_DAYS", 14)
# Post-discharge check-ins, days after the discharge (DOMAIN.md section 5; a comma-
# separated list in the environment).
DISCHARGE_FOLLOW_UP_DAYS = [
    int(days)
    for days in os.environ.get("DISCHARGE_FOLLOW_UP_DAYS", "7,30").split(",")
    if days.strip()
]

# Logging: no client data in any log line. Query strings are dropped from request lines
# (the admin's search puts names in ?q=), SQL is never logged, and Django's error emails
# are off (they would carry the request's POST data).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "drop_query_strings": {"()": "iopclinic.logging.DropQueryStrings"},
    },
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["drop_query_strings"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {
            "handlers": ["console"],
            "level": "WARNING",
            "propagate": False,
        },
        "gunicorn.access": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
        },
        "gunicorn.error": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
        },
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
