"""The audit log: who did what in a company, written by one function.

Every app below the API records its dashboard actions here (optout and campaigns call it
too; the address book is the lowest app, so all can). Events are only ever added.
"""

import ipaddress
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model

from ..models import AuditEvent, Company

Action = AuditEvent.Action


def record_audit(
    *,
    company: Company,
    action: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    obj: Model | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Add one event. ``target`` defaults to ``str(obj)``, kept as text so it outlives obj."""
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        company=company,
        actor=user,
        actor_name=user.get_username() if user else "",
        action=action,
        target=(target or (str(obj) if obj is not None else ""))[:255],
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        details=details or {},
        ip=_valid_ip(ip),
    )


def _valid_ip(value: str | None) -> str | None:
    # REMOTE_ADDR is a unix socket path or empty under some servers: keep the event anyway.
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None
