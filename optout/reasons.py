"""The reasons a company's landing page offers people who leave: added, renamed, reordered
and removed by its owners, each change audited.

An opt-out keeps the reason as it was offered (its text), so renaming or removing one never
changes what past opt-outs say.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction

from addressbook.models import AuditEvent, Company
from addressbook.services.audit import record_audit

from .models import LeaveReason

MAX_REASONS = 10  # a short list is read on a phone and answered
MAX_LABEL = LeaveReason._meta.get_field("label").max_length


class ReasonRefused(ValueError):
    """A change that cannot be made; the message says why."""


def reasons_of(*, company: Company) -> list[LeaveReason]:
    return list(LeaveReason.objects.filter(company=company).order_by("position", "id"))


def _label(raw: str) -> str:
    label = " ".join(raw.split())
    if not label:
        raise ReasonRefused("Write the reason.")
    if len(label) > MAX_LABEL:
        raise ReasonRefused(f"Keep a reason to {MAX_LABEL} characters; this is {len(label)}.")
    return label


def _taken(company: Company, label: str, but: LeaveReason | None = None) -> bool:
    same = LeaveReason.objects.filter(company=company, label__iexact=label)
    if but is not None:
        same = same.exclude(pk=but.pk)
    return same.exists()


def _audit(company, actor, ip, reason: LeaveReason, before: str, after: str) -> None:
    record_audit(
        company=company,
        action=AuditEvent.Action.COMPANY_CHANGED,
        actor=actor,
        obj=reason,
        target="Leave reason",
        details={"from": before or "—", "to": after or "—"},
        ip=ip,
    )


def add_leave_reason(
    *, company: Company, label: str, actor: AbstractBaseUser, ip: str | None = None
) -> LeaveReason:
    label = _label(label)
    with transaction.atomic():
        # The company's row lock: two owners adding at once get distinct positions.
        Company.objects.select_for_update().filter(pk=company.pk).first()
        existing = reasons_of(company=company)
        if len(existing) >= MAX_REASONS:
            raise ReasonRefused(
                f"Offer at most {MAX_REASONS} reasons: remove one first. A short list is "
                "answered more often."
            )
        if _taken(company, label):
            raise ReasonRefused(f"“{label}” is offered already.")
        position = max((r.position for r in existing), default=-1) + 1
        try:
            with transaction.atomic():
                reason = LeaveReason.objects.create(company=company, label=label, position=position)
        except IntegrityError:
            raise ReasonRefused(f"“{label}” is offered already.") from None
        _audit(company, actor, ip, reason, "", label)
    return reason


def rename_leave_reason(
    *, reason: LeaveReason, label: str, actor: AbstractBaseUser, ip: str | None = None
) -> bool:
    """Returns whether anything changed."""
    label = _label(label)
    before = reason.label
    if label == before:
        return False
    company = reason.company
    if _taken(company, label, but=reason):
        raise ReasonRefused(f"“{label}” is offered already.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                LeaveReason.objects.filter(company=company, pk=reason.pk).update(label=label)
        except IntegrityError:
            raise ReasonRefused(f"“{label}” is offered already.") from None
        reason.label = label
        _audit(company, actor, ip, reason, before, label)
    return True


def move_leave_reason(
    *, reason: LeaveReason, up: bool, actor: AbstractBaseUser, ip: str | None = None
) -> bool:
    """One place up or down; returns False at the top or bottom already."""
    company = reason.company
    with transaction.atomic():
        Company.objects.select_for_update().filter(pk=company.pk).first()
        order = reasons_of(company=company)
        ids = [r.pk for r in order]
        if reason.pk not in ids:
            return False  # removed meanwhile
        at = ids.index(reason.pk)
        to = at - 1 if up else at + 1
        if not 0 <= to < len(order):
            return False
        before = ", ".join(r.label for r in order)
        order[at], order[to] = order[to], order[at]
        for position, row in enumerate(order):
            if row.position != position:
                LeaveReason.objects.filter(company=company, pk=row.pk).update(position=position)
        record_audit(
            company=company,
            action=AuditEvent.Action.COMPANY_CHANGED,
            actor=actor,
            target="Order of the leave reasons",
            details={"from": before, "to": ", ".join(r.label for r in order)},
            ip=ip,
        )
    return True


def remove_leave_reason(
    *, reason: LeaveReason, actor: AbstractBaseUser, ip: str | None = None
) -> None:
    company = reason.company
    with transaction.atomic():
        _audit(company, actor, ip, reason, reason.label, "")
        LeaveReason.objects.filter(company=company, pk=reason.pk).delete()
