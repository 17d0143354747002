"""What a phone's authenticator app does, for the two-factor tests."""

from __future__ import annotations

import time
from base64 import b32decode
from typing import Any

from django_otp.oath import TOTP


def code_from_secret(secret: str, *, steps_ahead: int = 0) -> str:
    """The six digits an app shows for the secret as typed from the enrolment page."""
    key = b32decode("".join(secret.split()).upper())
    totp = TOTP(key)
    totp.time = time.time() + steps_ahead * totp.step
    return f"{totp.token():06d}"


def code_for(device: Any, *, steps_ahead: int = 0) -> str:
    """The device's next code: ``steps_ahead`` 30-second steps from now, so a test
    can sign in twice within one step (a code is never accepted twice)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"
