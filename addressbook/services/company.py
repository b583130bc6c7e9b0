from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from ..models import AuditEvent, Company
from .audit import record_audit

SETTINGS_FIELDS = (
    "name",
    "default_country",
    "timezone",
    "sms_sender",
    "help_contact",
    "sms_max_parts",
    "optout_alarm_percent",
    "optout_alarm_minimum",
    "sms_per_second",
    "email_from",
    "emails_per_second",
    "retention_days",
)


def update_company(
    *, company: Company, actor: AbstractBaseUser, ip: str | None = None, **values: Any
) -> list[str]:
    """Save the settings that changed, validated by the model; returns their names."""
    unknown = values.keys() - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a company setting: {', '.join(sorted(unknown))}")
    before = {name: getattr(company, name) for name in values}
    changed = [name for name, value in values.items() if before[name] != value]
    if not changed:
        return []
    for name in changed:
        setattr(company, name, values[name])
    company.full_clean(exclude=[f.name for f in Company._meta.fields if f.name not in changed])
    with transaction.atomic():
        company.save(update_fields=changed)
        record_audit(
            company=company,
            action=AuditEvent.Action.COMPANY_CHANGED,
            actor=actor,
            obj=company,
            details={name: f"{before[name] or '—'} → {values[name] or '—'}" for name in changed},
            ip=ip,
        )
    return changed
