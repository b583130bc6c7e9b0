"""Two-factor sign-in with a time-based code (TOTP, django-otp), optional per user."""

from base64 import b32encode
from datetime import datetime

import qrcode
import qrcode.image.svg
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice


class CodeRefused(Exception):
    """The code was wrong, or wrong codes came too fast; ``retry_at`` says until when."""

    def __init__(self, message: str, *, retry_at: datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at


def has_two_factor(*, user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_device(*, user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def start_two_factor_setup(*, user: AbstractBaseUser) -> TOTPDevice:
    """A new secret, not yet in force: it counts once the user proves their app has it."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def confirm_two_factor(*, user: AbstractBaseUser, token: str) -> TOTPDevice:
    device = pending_device(user=user)
    if device is None:
        raise CodeRefused("Start the set-up again: there is no code to confirm.")
    device = _check(device=device, token=token)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def verify_two_factor(*, user: AbstractBaseUser, token: str) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise CodeRefused("Two-factor sign-in is not set up for this account.")
    return _check(device=device, token=token)


def disable_two_factor(*, user: AbstractBaseUser, token: str) -> None:
    """Only with a current code, so a session left open cannot quietly remove it."""
    verify_two_factor(user=user, token=token)
    TOTPDevice.objects.filter(user=user).delete()


def _check(*, device: TOTPDevice, token: str) -> TOTPDevice:
    # Under a row lock, so parallel guesses are counted one after another and each
    # wrong one doubles the wait (django-otp's throttle), and a used code is spent.
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, why = device.verify_is_allowed()
        # verify_token records a failure itself: raise only once that is committed.
        verified = allowed and device.verify_token("".join(token.split()))
    if not allowed:
        raise CodeRefused(_wait_message(why["locked_until"]), retry_at=why["locked_until"])
    if not verified:
        raise CodeRefused("That code is not right. Check the app and try again.")
    return device


def _wait_message(until: datetime) -> str:
    seconds = max(1, round((until - timezone.now()).total_seconds()))
    return f"Too many wrong codes. Try again in {seconds} second{'s' if seconds != 1 else ''}."


def secret_for_typing(*, device: TOTPDevice) -> str:
    """The key as authenticator apps ask for it when typed: base32, in groups of four."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_code_svg(*, device: TOTPDevice) -> bytes:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string()
