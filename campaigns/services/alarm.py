"""The opt-out alarm: a campaign whose recipients leave too fast pauses itself.

Checked after each batch handed to the gateway, from counters only: the sent tally and
the attributed opt-outs, each one aggregate over an index, never a count of messages.
"""

import logging
import smtplib
from dataclasses import dataclass
from decimal import Decimal

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string

from addressbook.models import Membership
from addressbook.services.audit import Action, record_audit
from optout.selectors import optouts_for_campaign

from ..models import Campaign, SentTally
from .lifecycle import pause_campaign

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OptoutRate:
    optouts: int
    sent: int

    @property
    def percent(self) -> Decimal:
        if not self.sent:
            return Decimal(0)
        return Decimal(100 * self.optouts) / self.sent


def sent_so_far(*, campaign: Campaign) -> int:
    """Messages of the campaign the gateway took, from the tally."""
    total = SentTally.objects.filter(company_id=campaign.company_id, campaign=campaign).aggregate(
        sent=Sum("sent")
    )["sent"]
    return total or 0


def is_alarming(*, rate: OptoutRate, limit: Decimal | None, minimum: int) -> bool:
    """Over the company's limit, once enough messages went out for a rate to mean something."""
    if limit is None or rate.sent < minimum:
        return False
    # 100·optouts ≥ limit·sent: exact, with no rounding of the rate itself.
    return 100 * rate.optouts >= limit * rate.sent


def alarm_reason(*, rate: OptoutRate, limit: Decimal) -> str:
    optouts = f"{rate.optouts:,} opt-out{'s' if rate.optouts != 1 else ''}"
    sent = f"{rate.sent:,} message{'s' if rate.sent != 1 else ''} sent"
    return (
        f"Paused by the opt-out alarm: {optouts} from {sent} ({rate.percent:.1f}%), over your "
        f"{limit.normalize():f}% limit."
    )


def check_optout_alarm(*, campaign: Campaign) -> bool:
    """Pause the campaign if its opt-out rate so far passes the company's limit.

    Returns True for the one call that paused it: only that one audits and emails, however
    many chunks of the campaign run the check at the same moment.
    """
    company = campaign.company
    limit = company.optout_alarm_percent
    if limit is None or campaign.alarm_muted:
        return False
    sent = sent_so_far(campaign=campaign)
    if sent < company.optout_alarm_minimum:
        return False  # the cheaper aggregate first: most batches stop here
    optouts = optouts_for_campaign(company=company, campaign_id=campaign.pk).count()
    rate = OptoutRate(optouts=optouts, sent=sent)
    if not is_alarming(rate=rate, limit=limit, minimum=company.optout_alarm_minimum):
        return False
    reason = alarm_reason(rate=rate, limit=limit)
    with transaction.atomic():
        if not pause_campaign(campaign=campaign, reason=reason):
            return False  # paused, resumed or finished meanwhile, or another chunk was first
        record_audit(
            company=company,
            action=Action.CAMPAIGN_ALARM,
            obj=campaign,
            details={
                "optouts": optouts,
                "sent": sent,
                "percent": f"{rate.percent:.2f}",
                "limit": str(limit),
            },
        )
        transaction.on_commit(lambda: _email_members(campaign=campaign, reason=reason))
    logger.warning("Campaign %s (company %s): %s", campaign.pk, company.pk, reason)
    return True


def _email_members(*, campaign: Campaign, reason: str) -> None:
    """Tell the company's members; a mail server that fails leaves the pause in place."""
    recipients = sorted(
        set(
            Membership.objects.filter(company_id=campaign.company_id)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    if not recipients:
        return
    context = {"campaign": campaign, "company": campaign.company, "reason": reason}
    subject = render_to_string("emails/optout-alarm-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=" ".join(subject.splitlines()),
        body=render_to_string("emails/optout-alarm-body.txt", context),
        # One message, each member hidden from the others: they may not know each other.
        bcc=recipients,
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.error("Opt-out alarm email for campaign %s not sent: %s", campaign.pk, exc)
