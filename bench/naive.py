"""What sending looks like without the engine: one Celery task per contact.

Loaded into the campaign bench's workers with ``--include bench.naive``; the bench
compares its rate with the real path's on a sample of the same audience. Each task looks
its campaign and contact up, asks whether the phone is suppressed, renders the body with
the country's opt-out text, hands the one message to the backend and creates its row.
"""

from celery import shared_task
from django.utils import timezone

from addressbook.models import Contact
from campaigns.backends import OutboundSms, get_backend
from campaigns.models import Campaign, Message
from campaigns.personalize import (
    compile_body,
    compose_sms,
    new_short_code,
    placeholder_values,
    short_link,
)
from optout.models import CountryRule, Suppression
from optout.selectors import country_rules, rule_for_country


@shared_task(ignore_result=True)
def naive_send_one(campaign_id: int, contact_id: int) -> None:
    campaign = Campaign.objects.select_related("company").get(pk=campaign_id)
    contact = Contact.objects.get(pk=contact_id)
    fields = {
        "company_id": campaign.company_id,
        "campaign": campaign,
        "contact": contact,
        "to": contact.phone,
        "country": contact.country,
        "sender": campaign.sender,
    }
    if Suppression.objects.filter(company=campaign.company, address=contact.phone).exists():
        Message.objects.create(**fields, status=Message.Status.SKIPPED)
        return
    rule = rule_for_country(country_rules(), contact.country)
    link = ""
    if rule.method == CountryRule.Method.LINK:
        fields["short_code"] = new_short_code()
        link = short_link(fields["short_code"])
    else:
        fields["optout_shortcode"] = rule.shortcode
    row = {
        "phone": contact.phone,
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "custom": contact.custom,
    }
    values = placeholder_values(row, campaign.company.name)
    body = compose_sms(compile_body(campaign.body), values, rule.footer(link))
    sms = OutboundSms(str(contact.pk), to=contact.phone, sender=campaign.sender, body=body)
    (result,) = get_backend().send_messages([sms])
    status = Message.Status.SENT if result.accepted else Message.Status.FAILED
    Message.objects.create(**fields, body=body, status=status, sent_at=timezone.now())
