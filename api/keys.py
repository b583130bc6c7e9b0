"""API keys: given out once, stored as a hash, revoked for good."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from addressbook.models import AuditEvent, Company
from addressbook.services.audit import record_audit

from .models import ApiKey

KEY_PREFIX = "oab"
# last_used_at is written at most this often per key, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the whole key, shown to its creator once and never again


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    *,
    company: Company,
    name: str,
    created_by: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
    ip: str | None = None,
) -> IssuedKey:
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(20)}"
    key = ApiKey.objects.create(
        company=company,
        name=name.strip(),
        prefix=prefix,
        key_hash=_hash(secret),
        created_by=created_by,
        expires_at=expires_at,
    )
    record_audit(
        company=company,
        action=AuditEvent.Action.API_KEY_CREATED,
        actor=created_by,
        obj=key,
        details={"expires_at": expires_at.isoformat() if expires_at else None},
        ip=ip,
    )
    return IssuedKey(key=key, secret=secret)


def revoke_api_key(
    *, key: ApiKey, revoked_by: AbstractBaseUser | None = None, ip: str | None = None
) -> bool:
    """Revoke ``key``; False when it already was (a second click changes nothing)."""
    changed = ApiKey.objects.filter(
        company_id=key.company_id, pk=key.pk, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if changed:
        record_audit(
            company=key.company,
            action=AuditEvent.Action.API_KEY_REVOKED,
            actor=revoked_by,
            obj=key,
            ip=ip,
        )
    return bool(changed)


def key_for_secret(secret: str) -> ApiKey | None:
    """The key this secret belongs to, active or not; None when it belongs to none."""
    parts = secret.split("_")
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1].isalnum():
        return None
    # Authentication runs before any company is known (no scope is open yet): the key is
    # what names the company.
    key = ApiKey.objects.select_related("company").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    return key


def note_key_used(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return
    ApiKey.objects.filter(company_id=key.company_id, pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
