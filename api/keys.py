"""API keys: given out once, stored as a hash, revoked for good."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from addressbook.models import AuditEvent, Company
from addressbook.services.audit import record_audit

from .models import ApiKey

KEY_PREFIX = "oab"
PREFIX_LENGTH = 12  # hex digits: what the dashboard shows, ``oab_<prefix>_…``
# last_used_at is written at most this often per key, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)
NAME_MAX_LENGTH = ApiKey._meta.get_field("name").max_length


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the whole key, shown to its creator once and never again


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyError(ValueError):
    """A key that cannot be made as asked; the message says why, for the person asking."""


def create_api_key(
    *,
    company: Company,
    name: str,
    created_by: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
    rate_limit: int | None = None,
    ip: str | None = None,
) -> IssuedKey:
    name = name.strip()
    if not name:
        raise ApiKeyError("Give the key a name that says what uses it, such as “CRM sync”.")
    if len(name) > NAME_MAX_LENGTH:
        raise ApiKeyError(f"A key's name is at most {NAME_MAX_LENGTH} characters.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiKeyError("The expiry must be in the future.")
    if rate_limit is not None and rate_limit < 1:
        raise ApiKeyError("A rate limit is at least 1 request per minute.")
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(20)}"
    key = ApiKey.objects.create(
        company=company,
        name=name,
        prefix=prefix,
        key_hash=_hash(secret),
        created_by=created_by,
        expires_at=expires_at,
        rate_limit=rate_limit,
    )
    record_audit(
        company=company,
        action=AuditEvent.Action.API_KEY_CREATED,
        actor=created_by,
        obj=key,
        details={
            "expires_at": expires_at.isoformat() if expires_at else None,
            "rate_limit": rate_limit,
        },
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


def api_keys_of(*, company: Company) -> QuerySet[ApiKey]:
    """The company's keys, newest first, revoked and expired ones included: the list is
    also the record of which keys existed."""
    return ApiKey.objects.filter(company=company).select_related("created_by")


def key_for_secret(secret: str) -> ApiKey | None:
    """The key this secret belongs to, active or not; None when it belongs to none."""
    # The random part is URL-safe base64, which has "_" in its alphabet.
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not _is_prefix(parts[1]):
        return None
    # Authentication runs before any company is known (no scope is open yet): the key is
    # what names the company. Raw SQL, as every request of the API pays for this lookup:
    # compiling the ORM's queryset cost twice as much as running it (`make bench`).
    key = next(iter(ApiKey.objects.raw(_KEY_BY_PREFIX, [parts[1]])), None)
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    key.company = Company.objects.raw(_COMPANY_BY_ID, [key.company_id])[0]
    return key


_KEY_BY_PREFIX = f"SELECT * FROM {ApiKey._meta.db_table} WHERE prefix = %s"
_COMPANY_BY_ID = f"SELECT * FROM {Company._meta.db_table} WHERE id = %s"


def _is_prefix(text: str) -> bool:
    return len(text) == PREFIX_LENGTH and all(c in "0123456789abcdef" for c in text)


def note_key_used(key: ApiKey) -> None:
    """Record that ``key`` was used now, at most once a minute: a busy key (the
    suppression check runs before every message a company sends) must not write a row
    on every request."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return
    # Conditional, so that of the requests arriving together only one writes.
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY),
        company_id=key.company_id,
        pk=key.pk,
    ).update(last_used_at=now)
    key.last_used_at = now
