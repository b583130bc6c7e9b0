"""A company's team: invitations, roles, members leaving; a company always keeps an owner."""

import smtplib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ..models import AuditEvent, Company, Invitation, Membership
from .audit import record_audit

Role = Membership.Role
Action = AuditEvent.Action
INVITATION_SALT = "addressbook.invitation"


class TeamError(ValueError):
    pass


def _lock_team(company: Company) -> None:
    # Every change to a company's members takes its row lock first, so two owners who
    # demote or remove each other at once run one after the other, and the second sees
    # that only one owner is left.
    Company.objects.select_for_update().filter(pk=company.pk).first()


def _owners_after(company: Company, *, leaving: Membership) -> int:
    return (
        Membership.objects.filter(company=company, role=Role.OWNER).exclude(pk=leaving.pk).count()
    )


def invitation_token(*, invitation: Invitation) -> str:
    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def invite_member(
    *,
    company: Company,
    email: str,
    role: str,
    invited_by: AbstractBaseUser,
    base_url: str,
    ip: str | None = None,
) -> Invitation:
    """Create an invitation and email its link; an earlier open one to the address lapses.

    ``base_url`` is the dashboard's address (``https://app.example.com``) for the link.
    If the email cannot be sent, nothing is kept and the owner can simply try again.
    """
    email = BaseUserManager.normalize_email(email.strip())
    try:
        validate_email(email)
    except ValidationError as exc:
        raise TeamError(f"“{email}” is not an email address.") from exc
    if role not in Role.values:
        raise TeamError("Choose a role: owner, marketer or viewer.")
    if Membership.objects.filter(company=company, user__email__iexact=email).exists():
        raise TeamError(f"{email} is already a member of {company}.")
    with transaction.atomic():
        now = timezone.now()
        Invitation.objects.filter(
            company=company, email__iexact=email, accepted_at=None, revoked_at=None
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            company=company, email=email, role=role, invited_by=invited_by
        )
        record_audit(
            company=company,
            action=Action.MEMBER_INVITED,
            actor=invited_by,
            obj=invitation,
            target=email,
            details={"role": role},
            ip=ip,
        )
        link = base_url.rstrip("/") + reverse(
            "addressbook:invitation-accept", args=[invitation_token(invitation=invitation)]
        )
        try:
            _send_invitation_email(invitation=invitation, link=link)
        except (smtplib.SMTPException, OSError) as exc:
            raise TeamError(
                f"The invitation email to {email} could not be sent ({exc}); nothing was "
                "saved, try again."
            ) from exc
    return invitation


def _send_invitation_email(*, invitation: Invitation, link: str) -> None:
    """A transactional email: no unsubscribe link, no marketing rules."""
    days = settings.INVITATION_TTL_DAYS
    context = {"invitation": invitation, "link": link, "days": days}
    subject = render_to_string("emails/invitation-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=" ".join(subject.splitlines()),
        body=render_to_string("emails/invitation-body.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(
        render_to_string("emails/invitation-body.html", context), "text/html"
    )
    message.send()


def read_invitation(*, token: str) -> Invitation:
    """The open invitation a link names, or a TeamError saying why it cannot be used."""
    try:
        pk = signing.loads(
            token, salt=INVITATION_SALT, max_age=timedelta(days=settings.INVITATION_TTL_DAYS)
        )
    except signing.SignatureExpired as exc:
        raise TeamError(
            "This invitation has expired. Ask the person who invited you for a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise TeamError(
            "This invitation link is not valid: check that it was copied whole."
        ) from exc
    invitation = Invitation.objects.select_related("company").filter(pk=pk).first()
    if invitation is None or invitation.revoked_at:
        raise TeamError("This invitation was withdrawn. Ask for a new one if you need it.")
    if invitation.accepted_at:
        raise TeamError("This invitation has already been used. Log in to reach the company.")
    return invitation


def accept_invitation(
    *, invitation: Invitation, user: AbstractBaseUser, ip: str | None = None
) -> Membership:
    """Join ``user`` to the invitation's company with its role; each invitation works once.

    A user who is already a member keeps the role they have: an invitation never demotes.
    """
    with transaction.atomic():
        _lock_team(invitation.company)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise TeamError("This invitation has already been used or was withdrawn.")
        membership, created = Membership.objects.get_or_create(
            user=user, company=invitation.company, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if created:
            record_audit(
                company=invitation.company,
                action=Action.MEMBER_JOINED,
                actor=user,
                obj=membership,
                target=user.get_username(),
                details={"role": membership.role, "invited_as": invitation.email},
                ip=ip,
            )
    return membership


def join_with_new_account(
    *, invitation: Invitation, username: str, password: str, ip: str | None = None
) -> AbstractBaseUser:
    """Create the invitee's account (with the invited address) and accept for it."""
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username, email=invitation.email, password=password
            )
            accept_invitation(invitation=invitation, user=user, ip=ip)
    except IntegrityError as exc:
        raise TeamError(f"The username “{username}” is taken: choose another.") from exc
    return user


def revoke_invitation(
    *, invitation: Invitation, actor: AbstractBaseUser, ip: str | None = None
) -> bool:
    """Withdraw an open invitation; False when it was already used or withdrawn."""
    with transaction.atomic():
        changed = Invitation.objects.filter(
            pk=invitation.pk, company=invitation.company, accepted_at=None, revoked_at=None
        ).update(revoked_at=timezone.now())
        if changed:
            record_audit(
                company=invitation.company,
                action=Action.INVITATION_REVOKED,
                actor=actor,
                obj=invitation,
                target=invitation.email,
                ip=ip,
            )
    return bool(changed)


def change_role(
    *, membership: Membership, role: str, actor: AbstractBaseUser, ip: str | None = None
) -> Membership:
    if role not in Role.values:
        raise TeamError("Choose a role: owner, marketer or viewer.")
    company = membership.company
    with transaction.atomic():
        _lock_team(company)
        membership = _locked_member(company, membership)
        if membership is None:
            raise TeamError("This person is no longer a member.")
        old = membership.role
        if old == role:
            return membership
        _keep_an_owner(company, membership)
        membership.role = role
        membership.save(update_fields=["role"])
        record_audit(
            company=company,
            action=Action.ROLE_CHANGED,
            actor=actor,
            obj=membership,
            target=membership.user.get_username(),
            details={"from": old, "to": role},
            ip=ip,
        )
    return membership


def remove_member(
    *, membership: Membership, actor: AbstractBaseUser, ip: str | None = None
) -> None:
    """The person leaves the company; their account and other companies stay."""
    company = membership.company
    with transaction.atomic():
        _lock_team(company)
        membership = _locked_member(company, membership)
        if membership is None:
            return
        _keep_an_owner(company, membership)
        record_audit(
            company=company,
            action=Action.MEMBER_REMOVED,
            actor=actor,
            obj=membership,
            target=membership.user.get_username(),
            details={"role": membership.role},
            ip=ip,
        )
        membership.delete()


def _locked_member(company: Company, membership: Membership) -> Membership | None:
    """The membership as it is now, read under the team lock the caller holds."""
    return (
        Membership.objects.select_related("user").filter(company=company, pk=membership.pk).first()
    )


def _keep_an_owner(company: Company, membership: Membership) -> None:
    if membership.role == Role.OWNER and not _owners_after(company, leaving=membership):
        raise TeamError(
            f"{membership.user} is the last owner of {company}: make someone else an owner first."
        )
