"""Every dashboard URL, filled with another company's ids, is a 404.

The URL patterns come from the resolver, so a new dashboard page is walked without being
listed here. The walking owner's company holds nothing; the other company holds one row
of every kind, all with the same id, so whatever a URL's id names, it names the other
company's row. That company's own owner gets past the 404 on the same URLs, which proves
the ids were the right ones.
"""

from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from addressbook.models import (
    AuditEvent,
    Company,
    CustomField,
    Group,
    ImportJob,
    ImportRejection,
    Invitation,
    Membership,
)
from api.models import (
    ApiKey,
    IdempotentRequest,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from campaigns.models import CampaignChunk, EmailFeedback, Message, SentTally
from optout.models import (
    CompanyOptoutText,
    ConsentEvent,
    DedicatedNumber,
    InboundMessage,
    LeaveReason,
    OptinRequest,
    ReplyRoute,
    Suppression,
    SuppressionImport,
    SuppressionImportRejection,
)
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    GatewayWebhookFactory,
    MembershipFactory,
    UserFactory,
)

THEIRS = 987_654  # the id of every row of the other company
SECRET = "Globex-only"  # in the other company's names and texts

# Not the dashboard: the recipients' pages, the gateways' and email services' webhooks
# ("anymail", under /hooks/email/), the staff's admin,
# the health check, the way in and out, and the invitation link, which whoever holds it
# may open (a capability, not a row looked up by id).
# The API has its own walk, with keys rather than a session (tests/api/test_tenancy.py).
OUTSIDE_NAMESPACES = {"shorturl", "admin", "api", "anymail"}
OUTSIDE_NAMES = {
    "sms-inbound",
    "sms-inbound-company",
    "sms-status-hook",
    "sms-status-hook-company",
    "gateway-inbound",
    "gateway-inbound-company",
    "gateway-status",
    "gateway-status-company",
    "healthz",
    "login",
    "login-code",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "addressbook:invitation-accept",
}
# What each URL parameter is filled with.
VALUES = {"pk": lambda other: THEIRS, "company_id": lambda other: other.pk}
# What a POST carries: enough that a view which found the row would change it.
HOSTILE_FORM = {
    "name": "Hijacked",
    "first_name": "Hijacked",
    "phone": "+31687654321",
    "role": Membership.Role.VIEWER,
    "action": "delete",
    "ids": [THEIRS],
    "target_group": THEIRS,
}


def url_patterns(resolver: URLResolver, namespaces: tuple[str, ...] = (), params: tuple = ()):
    """(view name, namespaces, parameter names) of every URL pattern under ``resolver``."""
    for entry in resolver.url_patterns:
        # A path()'s converters, or a re_path()'s named groups.
        found = tuple(getattr(entry.pattern, "converters", {})) or tuple(
            entry.pattern.regex.groupindex
        )
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from url_patterns(entry, inner, params + found)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name or f"<unnamed {entry.pattern}>"))
            yield name, namespaces, params + found


def dashboard_patterns() -> list[tuple[str, tuple[str, ...]]]:
    """(view name, parameter names) of every URL pattern of the dashboard."""
    walked = {}
    for name, namespaces, params in url_patterns(get_resolver()):
        if OUTSIDE_NAMESPACES & set(namespaces) or name in OUTSIDE_NAMES:
            continue
        walked.setdefault(name, params)
    return sorted(walked.items())


def tenant_models() -> list:
    return [
        model
        for model in apps.get_models()
        if any(
            field.concrete and field.is_relation and field.related_model is Company
            for field in model._meta.get_fields()
            if field.many_to_one or field.one_to_one
        )
    ]


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def rows_of(company: Company) -> dict[str, list[dict]]:
    return {
        model._meta.label: list(model.objects.filter(company=company).order_by("pk").values())
        for model in tenant_models()
    }


@pytest.fixture
def their_rows(other_company, outsider):
    """One row of every kind for the other company, each with the id THEIRS."""
    now = timezone.now()
    Membership.objects.filter(user=outsider).update(role=Membership.Role.OWNER)
    MembershipFactory(pk=THEIRS, company=other_company, user=UserFactory(username=SECRET))
    group = Group.objects.create(pk=THEIRS, company=other_company, name=f"{SECRET} group")
    CustomField.objects.create(pk=THEIRS, company=other_company, name=SECRET, key="globex")
    contact = ContactFactory(pk=THEIRS, company=other_company, first_name=SECRET)
    contact.groups.add(group)
    job = ImportJob.objects.create(
        pk=THEIRS,
        company=other_company,
        filename=f"{SECRET}.csv",
        path="/nonexistent.csv",
        status=ImportJob.Status.DONE,
        counts={"created": 1, "rejected": 1},
        finished_at=now,
    )
    ImportRejection.objects.create(job=job, row=2, reason="No phone", values=[SECRET])
    campaign = CampaignFactory(pk=THEIRS, company=other_company, name=f"{SECRET} campaign")
    campaign.groups.add(group)
    CampaignChunk.objects.create(campaign=campaign, after_id=0, upto_id=THEIRS)
    Message.objects.create(
        pk=THEIRS,
        company=other_company,
        campaign=campaign,
        contact=contact,
        to=contact.phone,
        body=f"{SECRET} message",
    )
    EmailFeedback.objects.create(
        company=other_company,
        message_id=THEIRS,
        campaign_id=campaign.pk,
        address=f"{SECRET.lower()}@example.com",
        kind=EmailFeedback.Kind.COMPLAINT,
        esp="Postmark",
        description=f"{SECRET} complaint",
    )
    SentTally.objects.create(
        company=other_company,
        campaign=campaign,
        channel=campaign.channel,
        hour=timezone.now().replace(minute=0, second=0, microsecond=0),
        country="FR",
        sent=1,
    )
    event = ConsentEvent.objects.create(
        pk=THEIRS,
        company=other_company,
        kind=ConsentEvent.Kind.OPT_OUT,
        address="+33612345678",
        source="api",
        reason_text=SECRET,
    )
    Suppression.objects.create(
        pk=THEIRS, company=other_company, address="+33612345678", event=event
    )
    upload = SuppressionImport.objects.create(
        pk=THEIRS,
        company=other_company,
        filename=f"{SECRET}.csv",
        path="/nonexistent.csv",
        status=SuppressionImport.Status.FAILED,
        counts={"added": 1, "invalid": 1},
    )
    SuppressionImportRejection.objects.create(
        upload=upload, row=2, reason="No phone", values=[SECRET]
    )
    InboundMessage.objects.create(
        pk=THEIRS,
        company=other_company,
        sender="+33612345679",
        sender_e164="+33612345679",
        recipient="36111",
        text=f"{SECRET} please stop",
        status=InboundMessage.Status.UNMATCHED,
    )
    LeaveReason.objects.create(pk=THEIRS, company=other_company, label=SECRET)
    CompanyOptoutText.objects.create(
        pk=THEIRS, company=other_company, country="NL", template=f"{SECRET} STOP naar {{shortcode}}"
    )
    OptinRequest.objects.create(
        pk=THEIRS,
        company=other_company,
        address=contact.phone,
        channel=OptinRequest.Channel.SMS,
        wording=SECRET,
        expires_at=now + timedelta(days=7),
    )
    ReplyRoute.objects.create(
        pk=THEIRS, company=other_company, shortcode="36111", address=contact.phone, sent_at=now
    )
    DedicatedNumber.objects.create(pk=THEIRS, company=other_company, number="+3197010000001")
    GatewayWebhookFactory(pk=THEIRS, company=other_company)
    Invitation.objects.create(pk=THEIRS, company=other_company, email="globex-only@example.com")
    AuditEvent.objects.create(
        pk=THEIRS,
        company=other_company,
        action=AuditEvent.Action.CAMPAIGN_SENT,
        target=f"{SECRET} campaign",
    )
    ApiKey.objects.create(pk=THEIRS, company=other_company, name=SECRET, prefix="0" * 12)
    IdempotentRequest.objects.create(
        pk=THEIRS, company=other_company, key=SECRET, fingerprint="0" * 64
    )
    endpoint = WebhookEndpoint.objects.create(
        pk=THEIRS, company=other_company, url="https://globex.example/hook", description=SECRET
    )
    delivery = WebhookDelivery.objects.create(
        pk=THEIRS,
        company=other_company,
        endpoint=endpoint,
        event=event,
        kind=WebhookDelivery.Kind.OPT_OUT,
        payload={"id": f"evt_{THEIRS}", "data": {"reason_text": SECRET}},
        status=WebhookDelivery.Status.DELIVERED,
    )
    WebhookAttempt.objects.create(
        pk=THEIRS,
        company=other_company,
        delivery=delivery,
        number=1,
        started_at=now,
        status_code=200,
        response_snippet=SECRET,
    )
    return rows_of(other_company)


@pytest.fixture
def walker(client, marketer):
    """An owner, so that no role check answers before the tenancy check does."""
    Membership.objects.filter(user=marketer).update(role=Membership.Role.OWNER)
    client.force_login(marketer)
    return client


@pytest.fixture
def their_owner(outsider, their_rows) -> Client:
    owner = Client()
    owner.force_login(outsider)
    return owner


def test_the_walk_sees_every_kind_of_row_and_the_dashboards_urls(
    company, other_company, marketer, their_rows
):
    for model in tenant_models():
        label = model._meta.label
        assert their_rows[label], f"their_rows makes no {label}: add one"
        mine = model.objects.filter(company=company)
        if model is Membership:
            mine = mine.exclude(user=marketer)
        assert not mine.exists(), f"the walking company should hold no {label}"
    names = {name for name, _ in dashboard_patterns()}
    assert {"addressbook:contact-edit", "campaigns:message-detail", "optout:replies"} <= names
    assert not names & {"shorturl:landing", "healthz", "sms-inbound"}


def test_every_dashboard_url_with_another_companys_id_is_a_404(
    walker, their_owner, other_company, their_rows
):
    walked = 0
    for name, params in dashboard_patterns():
        if not params:
            continue
        missing = [p for p in params if p not in VALUES]
        assert not missing, f"{name}: say in VALUES what fills {missing}"
        url = reverse(name, kwargs={p: VALUES[p](other_company) for p in params})
        answers = {}
        for method in ("get", "post"):
            response = getattr(walker, method)(url, HOSTILE_FORM)
            answers[method] = response.status_code
            assert SECRET not in body(response), f"{method} {url}"
        assert set(answers.values()) <= {404, 405} and 404 in answers.values(), (
            f"{name} ({url}) answered {answers}"
        )
        if answers["get"] != 405:
            owner_sees = their_owner.get(url).status_code
            assert owner_sees != 404, f"{name} ({url}): the id is not the other company's"
        walked += 1
    assert walked >= 20
    assert rows_of(other_company) == their_rows, "a request changed the other company's data"


def test_dashboard_pages_without_ids_show_nothing_of_another_company(
    walker, their_owner, other_company, their_rows
):
    shown_to_owner = []
    for name, params in dashboard_patterns():
        if params:
            continue
        url = reverse(name)
        response = walker.get(url, follow=True)
        assert response.status_code < 500, f"{name} ({url})"
        assert SECRET not in body(response), f"{name} ({url})"
        if SECRET in body(their_owner.get(url, follow=True)):
            shown_to_owner.append(name)
    # The same pages do show the other company's rows to its own owner.
    assert {"addressbook:contact-list", "campaigns:campaign-list", "optout:replies"} <= set(
        shown_to_owner
    )
    assert rows_of(other_company) == their_rows
