"""A campaign's life: drafted, scheduled, started, paused, resumed, cancelled."""

import re
from collections.abc import Iterable
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from addressbook.models import Company, Group, is_in_domain
from addressbook.services.audit import Action, record_audit

from ..models import Campaign, Channel, Message
from ..personalize import BodyError, compile_body
from ..selectors import CONDITION_LOOKUPS, typed_parts
from .sending import cancel_queued, release_held_chunks

Status = Campaign.Status

ALPHANUMERIC_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
NUMERIC_SENDER = re.compile(r"^\+?[0-9]{1,16}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
# As many as the editor has rows for: a campaign saved with more could not be edited there
# without losing the rest.
MAX_CONDITIONS = 3
SMS_SENDER_RULE = (
    "An SMS sender is up to 11 letters, digits and spaces, or a number of up to 16 digits."
)


class CampaignError(ValueError):
    """What the marketer asked for cannot be done; the message says why."""


class CampaignInvalid(CampaignError):
    """A draft that cannot be saved; ``errors`` names each field that is wrong, and why."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(" ".join(messages[0] for messages in errors.values()))


def marketing_from(company: Company) -> str:
    """The From of a company's marketing email when a campaign names none: its own From
    address where it has one, else the platform's, under the company's name."""
    address = company.email_from or settings.DEFAULT_FROM_EMAIL
    return f'"{company.name}" <{address}>'


def sender_error(*, channel: str, sender: str, company: Company | None = None) -> str:
    """Why this sender cannot send on this channel, or "" (empty: the company's default)."""
    sender = sender.strip()
    if not sender:
        return ""
    if channel == Channel.EMAIL:
        address = parseaddr(sender)[1]
        try:
            validate_email(address)
        except ValidationError:
            return "Enter an email address to send from."
        # Mail from another domain than the one set up with the email service fails its
        # SPF/DKIM checks, and would let one company send as another.
        domain = company.email_sender_domain if company else ""
        if domain and not is_in_domain(address, domain):
            return f"The From address must end in @{domain}, your company's sender domain."
        return ""
    if ALPHANUMERIC_SENDER.match(sender) or NUMERIC_SENDER.match(sender):
        return ""
    return SMS_SENDER_RULE


def draft_errors(
    *,
    company: Company,
    channel: str,
    sender: str,
    subject: str,
    body: str,
    html_body: str,
    countries: Iterable[str] = (),
    field_conditions: Iterable[dict] = (),
) -> dict[str, list[str]]:
    """What stops a draft from being saved, per field; the editor and the API show it.

    Placeholders and tags are checked against the company's fields now, so that nothing
    fails for every recipient at send time.
    """
    errors: dict[str, list[str]] = {}
    keys = list(company.custom_fields.values_list("key", flat=True))
    for name, text, html in (
        ("body", body, False),
        ("subject", subject, False),
        ("html_body", html_body, True),
    ):
        try:
            compile_body(text, html=html, custom_keys=keys)
        except BodyError as exc:
            errors[name] = [str(exc)]
    if channel == Channel.SMS and "body" not in errors and body.strip():
        parts = typed_parts(company=company, body=body, countries=countries)
        if parts > company.sms_max_parts:
            errors["body"] = [
                f"With its opt-out text this SMS takes {parts} parts; your company sends at "
                f"most {company.sms_max_parts} (Settings). Shorten it."
            ]
    if channel == Channel.EMAIL and not subject.strip() and "subject" not in errors:
        errors["subject"] = ["An email needs a subject."]
    if problem := sender_error(channel=channel, sender=sender, company=company):
        errors["sender"] = [problem]
    if bad := sorted({c for c in countries if not COUNTRY.match(c.upper())}):
        errors["countries"] = [f"“{bad[0]}” is no ISO 3166 country code, such as NL or FR."]
    problems = _condition_errors(list(field_conditions), keys)
    if problems:
        errors["field_conditions"] = problems
    return errors


def _condition_errors(conditions: list[dict], keys: list[str]) -> list[str]:
    if len(conditions) > MAX_CONDITIONS:
        return [f"At most {MAX_CONDITIONS} conditions."]
    problems = []
    for number, condition in enumerate(conditions, start=1):
        if condition.get("key") not in keys:
            known = ", ".join(keys) or "none yet"
            problem = f"“{condition.get('key')}” is none of your custom fields ({known})."
        elif condition.get("op") not in CONDITION_LOOKUPS:
            problem = f"how to match is one of: {', '.join(CONDITION_LOOKUPS)}."
        elif not str(condition.get("value", "")).strip():
            problem = f"enter the value “{condition['key']}” must match."
        else:
            continue
        problems.append(f"Condition {number}: {problem}")
    return problems


def create_campaign(
    *,
    company: Company,
    name: str,
    body: str,
    channel: str = Channel.SMS,
    sender: str = "",
    subject: str = "",
    html_body: str = "",
    groups: list[Group] | None = None,
    countries: list[str] | None = None,
    field_conditions: list[dict] | None = None,
    created_by=None,
) -> Campaign:
    campaign = Campaign(company=company, created_by=created_by)
    return update_campaign(
        campaign=campaign,
        name=name,
        body=body,
        channel=channel,
        sender=sender,
        subject=subject,
        html_body=html_body,
        groups=groups or [],
        countries=countries or [],
        field_conditions=field_conditions or [],
    )


@transaction.atomic
def update_campaign(
    *,
    campaign: Campaign,
    name: str,
    body: str,
    channel: str,
    sender: str,
    subject: str,
    html_body: str,
    groups: list[Group],
    countries: list[str],
    field_conditions: list[dict],
) -> Campaign:
    """Save a draft; once a campaign has started, what it says and to whom is fixed."""
    if campaign.pk:
        # Read again under a lock: sent or scheduled from another tab meanwhile, it is
        # no draft any more, and saving the stale copy would undo that.
        current = Campaign.objects.select_for_update().get(
            company_id=campaign.company_id, pk=campaign.pk
        )
        if current.status != Status.DRAFT:
            raise CampaignError("Only a draft can be edited; unschedule it first.")
        campaign.status, campaign.scheduled_at = current.status, current.scheduled_at
    company = campaign.company
    errors = draft_errors(
        company=company,
        channel=channel,
        sender=sender,
        subject=subject,
        body=body,
        html_body=html_body,
        countries=countries,
        field_conditions=field_conditions,
    )
    if errors:
        raise CampaignInvalid(errors)
    default_sender = marketing_from(company) if channel == Channel.EMAIL else company.default_sender
    campaign.name = name.strip()
    campaign.channel = channel
    campaign.subject = subject.strip()
    campaign.body = body
    campaign.html_body = html_body
    campaign.sender = sender.strip() or default_sender
    campaign.countries = sorted({c.upper() for c in countries})
    campaign.field_conditions = field_conditions
    groups = [g for g in groups if g.company_id == company.pk]
    campaign.limited_to_groups = bool(groups)
    campaign.save()
    # Not groups.set(): it reads the current groups without their company, which the
    # tenant scope refuses.
    campaign.groups.clear()
    campaign.groups.add(*groups)
    return campaign


def refusal(*, campaign: Campaign, what: str) -> str:
    """Why an action did nothing: the campaign, read again, is in no state for it."""
    campaign.refresh_from_db(fields=["status"])
    return f"“{campaign}” cannot be {what}: it is {campaign.get_status_display().lower()}."


def send_campaign(*, campaign: Campaign) -> bool:
    """Start sending now; a second click (or a second tab) starts nothing more."""
    return _start(campaign.pk, campaign.company_id, from_statuses=[Status.DRAFT, Status.SCHEDULED])


def schedule_campaign(*, campaign: Campaign, at: datetime) -> bool:
    if at <= timezone.now():
        raise CampaignError("Pick a time in the future.")
    return bool(
        Campaign.objects.filter(
            company_id=campaign.company_id,
            pk=campaign.pk,
            status__in=[Status.DRAFT, Status.SCHEDULED],
        ).update(status=Status.SCHEDULED, scheduled_at=at)
    )


def unschedule_campaign(*, campaign: Campaign) -> bool:
    """Back to a draft that can be edited and scheduled again."""
    return bool(
        Campaign.objects.filter(
            company_id=campaign.company_id, pk=campaign.pk, status=Status.SCHEDULED
        ).update(status=Status.DRAFT, scheduled_at=None)
    )


def start_due_campaigns(*, now: datetime | None = None) -> list[int]:
    """Start every scheduled campaign whose time has come; run by the periodic tick."""
    due = Campaign.objects.filter(
        status=Status.SCHEDULED, scheduled_at__lte=now or timezone.now()
    ).values_list("pk", "company_id")
    return [
        pk for pk, company_id in due if _start(pk, company_id, from_statuses=[Status.SCHEDULED])
    ]


def _start(campaign_id: int, company_id: int, *, from_statuses: list[str]) -> bool:
    from ..tasks import plan_campaign_task

    started = Campaign.objects.filter(
        company_id=company_id, pk=campaign_id, status__in=from_statuses
    ).update(status=Status.SENDING, started_at=timezone.now())
    if started:
        transaction.on_commit(lambda: plan_campaign_task.delay(campaign_id))
    return bool(started)


def pause_campaign(*, campaign: Campaign, reason: str = "") -> bool:
    """Workers stop before their next batch; nothing queued is lost.

    ``reason``: why the campaign paused itself (the opt-out alarm), for its page; such a
    pause never hits a campaign a person resumed after an alarm.
    """
    sending = Campaign.objects.filter(
        company_id=campaign.company_id, pk=campaign.pk, status=Status.SENDING
    )
    if reason:
        sending = sending.filter(alarm_muted=False)
    return bool(sending.update(status=Status.PAUSED, paused_reason=reason))


def resume_campaign(*, campaign: Campaign) -> bool:
    """Go on where it stopped; resuming after the alarm mutes it for this campaign, as the
    person has seen the rate and chose to send anyway."""
    from ..tasks import plan_campaign_task

    resumed = Campaign.objects.filter(
        company_id=campaign.company_id, pk=campaign.pk, status=Status.PAUSED
    ).update(
        status=Status.SENDING,
        paused_reason="",
        alarm_muted=Case(When(paused_reason="", then=F("alarm_muted")), default=Value(True)),
    )
    if resumed:
        # Hours may have opened, or their rules changed, since the chunks were held:
        # held chunks go out again now and are judged afresh.
        release_held_chunks(campaign_ids=[campaign.pk])
        # Planning is done once; this plans a campaign paused before it was, and hands
        # out its chunks either way.
        transaction.on_commit(lambda: plan_campaign_task.delay(campaign.pk))
    return bool(resumed)


def override_send_hours(*, campaign: Campaign, actor, ip: str | None = None) -> bool:
    """Staff: send the campaign's recipients who wait for their sending hours now, and
    any it reaches later, whatever their hours. On the record, and on the campaign's page.

    Only for a campaign that is sending or paused (a paused one sends them on resume);
    a second use changes nothing.
    """
    now = timezone.now()
    name = actor.get_username() if actor is not None and actor.is_authenticated else ""
    with transaction.atomic():
        overridden = Campaign.objects.filter(
            pk=campaign.pk,
            status__in=[Status.SENDING, Status.PAUSED],
            hours_overridden_at__isnull=True,
        ).update(hours_overridden_at=now, hours_overridden_by=name)
        if not overridden:
            return False
        campaign.refresh_from_db()
        record_audit(
            company=campaign.company,
            action=Action.CAMPAIGN_HOURS_OVERRIDDEN,
            actor=actor,
            obj=campaign,
            details={"channel": campaign.channel},
            ip=ip,
        )
        release_held_chunks(campaign_ids=[campaign.pk])
    return True


@transaction.atomic
def cancel_campaign(*, campaign: Campaign) -> bool:
    """Stop for good: what has not been handed to the gateway is never sent."""
    cancelled = Campaign.objects.filter(
        company_id=campaign.company_id, pk=campaign.pk, status__in=[Status.SENDING, Status.PAUSED]
    ).update(status=Status.CANCELLED, finished_at=timezone.now())
    if not cancelled:
        return False
    cancel_queued(Message.objects.filter(company_id=campaign.company_id, campaign=campaign))
    campaign.chunks.filter(done_at__isnull=True).update(done_at=timezone.now(), leased_until=None)
    return True


def record_campaign_action(
    *, campaign: Campaign, service, actor=None, ip: str | None = None, **details
) -> None:
    """Put an action that was carried out on the audit log, if it is one kept there:
    whoever took it (a member on the dashboard, a program with an API key)."""
    action = _AUDITED.get(service)
    if action is None:
        return
    record_audit(
        company=campaign.company,
        action=action,
        actor=actor,
        obj=campaign,
        details={"channel": campaign.channel, **details},
        ip=ip,
    )


# What changes when and whether a campaign reaches people is on the record.
_AUDITED = {
    send_campaign: Action.CAMPAIGN_SENT,
    schedule_campaign: Action.CAMPAIGN_SCHEDULED,
    unschedule_campaign: Action.CAMPAIGN_UNSCHEDULED,
    pause_campaign: Action.CAMPAIGN_PAUSED,
    resume_campaign: Action.CAMPAIGN_RESUMED,
    cancel_campaign: Action.CAMPAIGN_CANCELLED,
}
