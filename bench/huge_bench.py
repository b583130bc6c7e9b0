"""The pages a marketer opens most, and the start of a send, when the message table holds
100,000,000 rows (``BENCH_SCALE=huge``; PostgreSQL only).

One company (``bench-huge``) has 1,000,000 contacts and 100 sent SMS campaigns of
1,000,000 messages each, one to every contact: each campaign's messages are written by one
set-based ``INSERT … SELECT`` over the contacts (themselves one statement over
``generate_series``), into the real ``campaigns_message`` table with all its indexes and
constraints. Measured through Django's test client as a member of the company, median of
BENCH_HUGE_RUNS (default 7) after BENCH_HUGE_WARMUPS (default 2):

- ``campaign_page_ms_<size>``: one of those campaigns' page (its report);
- ``insights_page_ms_<size>``: the company's insights page, default range;
- ``contact_page_ms_<size>``: a contact's page plus its history fragment
  (``/contacts/<id>/history/`` as htmx loads it), the contact having a message in every
  campaign;
- ``send_start_ms_<size>``: ``send_campaign`` for a new campaign to a group of
  BENCH_HUGE_GROUP contacts (default 1,000), until its plan is cut and its first chunks
  handed out (the plan task's function called here, the chunk tasks not queued).

``<size>`` is the number of messages loaded: ``100m`` at full scale. The full scale needs
some 30 GB of disk for the message table (5.7 GB at 20,000,000) and 10–45 minutes to load
on a 2-core machine (6–27 s per million seen); BENCH_HUGE_MESSAGES (default
100,000,000) scales it down, keeping BENCH_HUGE_PER_CAMPAIGN (default 1,000,000) messages
per campaign (and as many contacts) and loading fewer campaigns. Each campaign is loaded in
a transaction of its own, so a load cut short resumes where it stopped. The company is
deleted at the end unless BENCH_HUGE_KEEP=1, in which case a later run with the same sizes
reuses it.
"""

import os
import statistics
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from addressbook.models import Company, Contact, Group
from campaigns.models import Campaign, CampaignChunk, Message
from campaigns.services import create_campaign, send_campaign

from . import review_bench as rb
from .run import bench, label, note

SLUG = "bench-huge"
LAYOUT = "v1"  # raised when the rows loaded change, so an older load is not reused
GOAL_MS = 300
BODY = "Hi Anna, the spring sale at Bench starts today: 20% off all weekend."


def _sizes() -> tuple[int, int]:
    """(campaigns, messages per campaign = contacts)."""
    messages = int(os.environ.get("BENCH_HUGE_MESSAGES", "100000000"))
    per = min(int(os.environ.get("BENCH_HUGE_PER_CAMPAIGN", "1000000")), messages)
    return max(1, messages // per), per


def _loaded_name(campaigns: int, per: int) -> str:
    return f"Bench huge {LAYOUT} ({per} contacts, {campaigns} campaigns)"


def company_with_data(campaigns: int, per: int) -> Company:
    """The company, loaded (or its load resumed) now unless complete at these sizes."""
    loaded = _loaded_name(campaigns, per)
    company = Company.objects.filter(slug=SLUG).first()
    if company is not None and company.name == loaded:
        note(f"reusing {SLUG} ({loaded}), loaded {company.created_at:%Y-%m-%d %H:%M} UTC")
        return company
    if company is not None and company.name != f"{loaded} (loading)":
        note(f"{SLUG}: another size or layout ({company.name}); deleting it first")
        delete(company)
        company = None
    if company is None:
        company = Company.objects.create(name=f"{loaded} (loading)", slug=SLUG)
    started = time.perf_counter()
    _load(company, campaigns, per)
    Company.objects.filter(pk=company.pk).update(name=loaded)
    company.refresh_from_db()
    note(f"loaded {SLUG} in {time.perf_counter() - started:.0f} s")
    return company


def _load(company: Company, campaigns: int, per: int) -> None:
    # The contacts come in one statement: either all there or none.
    if not Contact.objects.filter(company=company).exists():
        with transaction.atomic(), connection.cursor() as cursor:
            rb._skip_foreign_key_checks(cursor)
            rb.insert_contacts(cursor, company.pk, per)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Contact._meta.db_table}")
    # A campaign is written in the same transaction as its messages: one that is there
    # is complete.
    done = Campaign.objects.filter(company=company, name__startswith="Huge ").count()
    if done:
        note(f"  resuming: {done} of {campaigns} campaigns already loaded")
    now = timezone.now()
    contact = Contact._meta.db_table
    for k in range(done, campaigns):
        started = now - timedelta(days=campaigns - k)
        with transaction.atomic():
            campaign = Campaign.objects.create(
                company=company,
                name=f"Huge {k + 1}",
                body=BODY,
                status=Campaign.Status.SENT,
                started_at=started,
                finished_at=started + timedelta(hours=4),
            )
            with connection.cursor() as cursor:
                rb._skip_foreign_key_checks(cursor)
                # 3% failed, 6% skipped as opted out, 61% delivered, 30% sent (no report).
                rb._insert(
                    cursor,
                    Message,
                    {
                        "company_id": "%s",
                        "campaign_id": "%s",
                        "contact_id": "p.id",
                        "channel": "'sms'",
                        "to": "p.phone",
                        "country": "p.country",
                        "sender": "'Bench'",
                        "body": "%s",
                        "status": "CASE WHEN p.id %% 100 < 3 THEN 'failed' "
                        "WHEN p.id %% 100 < 9 THEN 'skipped' "
                        "WHEN p.id %% 100 < 70 THEN 'delivered' ELSE 'sent' END",
                        "created_at": "%s::timestamptz + (p.id %% 14400) * interval '1 second'",
                        "sent_at": "CASE WHEN p.id %% 100 BETWEEN 3 AND 8 THEN NULL "
                        "ELSE %s::timestamptz + (p.id %% 14400) * interval '1 second' END",
                        "delivered_at": "CASE WHEN p.id %% 100 BETWEEN 9 AND 69 THEN "
                        "%s::timestamptz + (p.id %% 14400 + 4) * interval '1 second' END",
                    },
                    f"{contact} p WHERE p.company_id = %s",
                    [company.pk, campaign.pk, BODY, started, started, started, company.pk],
                )
    vacuum_started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Message, Campaign, CampaignChunk):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    note(f"  VACUUM ANALYZE in {time.perf_counter() - vacuum_started:.1f} s")


def delete(company: Company) -> None:
    """The messages in bulk, their foreign keys unchecked (nothing of this company points
    at them), then the rest as the review bench deletes its company."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        rb._skip_foreign_key_checks(cursor)
        cursor.execute(f"DELETE FROM {Message._meta.db_table} WHERE company_id = %s", [company.pk])
        deleted = cursor.rowcount
    rb._delete(company)
    with connection.cursor() as cursor:
        for model in (Message, Contact):
            cursor.execute(f"VACUUM {model._meta.db_table}")
    note(f"deleted {SLUG} ({deleted} messages) in {time.perf_counter() - started:.0f} s")


# --- Measuring ------------------------------------------------------------------------


def _contact_page_ms(client: Client, contact: Contact, *, warmups: int, runs: int) -> float:
    """The contact's page and, as htmx then fetches it, its history fragment."""
    page = reverse("addressbook:contact-edit", args=[contact.pk])
    history = reverse("insights:contact-history", args=[contact.pk])
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "history"}

    def once() -> float:
        started = time.perf_counter()
        first = client.get(page, secure=True)
        second = client.get(history, secure=True, **htmx)
        ms = (time.perf_counter() - started) * 1000
        for url, response in ((page, first), (history, second)):
            if response.status_code != 200:
                raise RuntimeError(f"GET {url}: {response.status_code}")
        if "Huge" not in second.content.decode():
            note(f"warning: {history} shows none of the campaigns' messages")
        return ms

    for _ in range(warmups):
        once()
    return statistics.median(once() for _ in range(runs))


def _send_start_ms(company: Company, contacts: int, *, runs: int) -> tuple[float, int]:
    """Median ms of send_campaign plus its plan (the cut and the first hand-outs), for new
    campaigns to a group of ``contacts``; and how many chunks each plan cut."""
    from campaigns import tasks
    from campaigns.services import plan_campaign

    group, _ = Group.objects.get_or_create(company=company, name="Bench huge group")
    members = Contact.groups.through
    if not members.objects.filter(group=group).exists():
        ids = Contact.objects.filter(company=company).order_by("id").values_list("id", flat=True)
        members.objects.bulk_create(
            members(group_id=group.pk, contact_id=i) for i in ids[: contacts * 7 : 7]
        )
    drafts = [
        create_campaign(company=company, name=f"Bench send {i}", body=BODY, groups=[group])
        for i in range(runs)
    ]
    queued: list[tuple] = []
    times = []
    try:
        with (
            mock.patch.object(tasks.plan_campaign_task, "delay", lambda *a: queued.append(a)),
            mock.patch.object(tasks.send_chunk_task, "delay", lambda *a: queued.append(a)),
        ):
            for campaign in drafts:
                queued.clear()
                started = time.perf_counter()
                if not send_campaign(campaign=campaign):
                    raise RuntimeError(f"Campaign {campaign.pk} could not be started")
                for args in [a for a in queued if len(a) == 1]:
                    plan_campaign(campaign_id=args[0])
                times.append((time.perf_counter() - started) * 1000)
        chunks = CampaignChunk.objects.filter(campaign=drafts[0]).count()
    finally:
        # Started, never sent: gone again, so the data stays as loaded.
        ids = [c.pk for c in drafts]
        CampaignChunk.objects.filter(campaign_id__in=ids).delete()
        Campaign.groups.through.objects.filter(campaign_id__in=ids).delete()
        Campaign.objects.filter(pk__in=ids).delete()
    return statistics.median(times), chunks


def huge_part(*, out: Path) -> None:
    if connection.vendor != "postgresql":
        note("huge: skipped; its rows are loaded with PostgreSQL's SQL: set DATABASE_URL")
        return
    warmups = int(os.environ.get("BENCH_HUGE_WARMUPS", "2"))
    runs = int(os.environ.get("BENCH_HUGE_RUNS", "7"))
    group = int(os.environ.get("BENCH_HUGE_GROUP", "1000"))
    keep = os.environ.get("BENCH_HUGE_KEEP", "") in ("1", "true", "yes")
    timeout = int(os.environ.get("BENCH_REVIEW_QUERY_TIMEOUT", "20"))
    campaigns, per = _sizes()
    size = label(campaigns * per)
    out.mkdir(parents=True, exist_ok=True)
    rb.as_production()
    note(
        f"huge: {campaigns} campaigns x {per} messages = {campaigns * per} messages "
        f"(full scale: 100 x 1000000), {per} contacts, one company ({SLUG})"
    )
    company = company_with_data(campaigns, per)
    try:
        client = rb.member_client(company)
        total = Message.objects.count()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size(%s))", [Message._meta.db_table]
            )
            (disk,) = cursor.fetchone()
        note(
            f"{Message.objects.filter(company=company).count()} messages of {SLUG}, {total} in "
            f"the table ({disk} with its indexes); {warmups} warm-ups, median of {runs}, "
            f"statement_timeout {timeout} s"
        )
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", [f"{timeout}s"])
        try:
            name = f"Huge {campaigns // 2 + 1}"
            campaign = Campaign.objects.filter(company=company, name=name).get()
            url = reverse("campaigns:campaign-detail", args=[campaign.pk])
            measured = rb.measure(client, url, shows=name, warmups=warmups, runs=runs)
            slowest = ", ".join(
                f"{float(q['time'] or 'nan') * 1000:.0f}" for q in measured.queries[:3]
            )
            note(f"{url}: {len(measured.queries)} queries, slowest {slowest} ms")
            if measured.ms > GOAL_MS:
                path = rb.explain(measured.queries, out / "huge-explain-campaign.txt")
                note(f"over {GOAL_MS} ms: the plans of its slowest queries in {path}")
            bench(f"campaign_page_ms_{size}", measured.ms, "ms")
            insights = reverse("insights:insights")
            measured = rb.measure(client, insights, shows="Insights", warmups=warmups, runs=runs)
            bench(f"insights_page_ms_{size}", measured.ms, "ms")
            contact = Contact.objects.filter(company=company).order_by("id")[per // 2]
            ms = _contact_page_ms(client, contact, warmups=warmups, runs=runs)
            note(
                f"contact {contact.pk}: {Message.objects.filter(contact=contact).count()} "
                "messages; its page plus its history fragment"
            )
            bench(f"contact_page_ms_{size}", ms, "ms")
            ms, chunks = _send_start_ms(company, group, runs=runs)
            note(
                f"send_campaign to a group of {group} contacts until its plan is cut "
                f"({chunks} chunks) and its first chunks handed out (not sent)"
            )
            bench(f"send_start_ms_{size}", ms, "ms")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
        note(f"goal (not asserted): each under {GOAL_MS} ms at 100m messages on PostgreSQL")
    finally:
        if keep:
            note(f"kept {SLUG} (BENCH_HUGE_KEEP): a later run with the same sizes reuses it")
        else:
            delete(company)
