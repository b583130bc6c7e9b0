"""The review pages at a million: insights, a campaign's report and the suppression list,
rendered through Django's test client on the configured database, as a member sees them.

The company has 1,000,000 contacts; 100 sent campaigns, one to every contact and 99 to
2,000–10,000 each (every fifth of them email), with their messages (sent, delivered,
failed, skipped) and SentTally rows; 100,000 opt-outs, one contact in ten, spread over
90 days, most attributed to a campaign, with their suppressions, sources, reasons (the
defaults and the company's own), free text and countries. A second company a tenth its
size shares the tables, so every query has to find its company's rows among others'.
Both are loaded with set-based SQL (``bench-review`` and ``bench-review-other``) and
reused by later runs for 20 hours; a load cut short, or older, is loaded again
(BENCH_REVIEW_RELOAD=1: always).

Each page is fetched BENCH_REVIEW_WARMUPS times (default 2), then BENCH_REVIEW_RUNS times
(default 7); the median is printed. The first fetch is under CaptureQueriesContext: the
number of queries and the slowest are printed, and for a page over the goal its queries
and the plans (EXPLAIN ANALYZE) of the slowest go to var/bench/review-explain-<page>.txt.
A page slower than SLOW_MS is fetched once; a query that runs past
BENCH_REVIEW_QUERY_TIMEOUT seconds (default 20, PostgreSQL's statement_timeout) stops its
page, which is then reported at the timeout. PostgreSQL only (the load is SQL).
"""

import os
import re
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction
from django.db.models import NOT_PROVIDED, Model
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from addressbook.models import Company, Contact, Membership
from campaigns.models import Campaign, Channel, Message, SentTally
from optout.models import ConsentEvent, LeaveReason, Suppression

from . import campaign_bench as cb
from .run import bench, note

GOAL_MS = 300
SLOW_MS = 5_000  # a page this slow is fetched once
OWN_REASONS = ["Prices went up", "I moved abroad", "Messages at night"]
BODY = "Hi Anna, the spring sale at Bench starts today: 20% off all weekend."
# When contact p's message of campaign g was handed over: the big campaign's (k 0) over
# four hours in contact order, a small one's over twenty minutes. %s: the contacts.
SENT_AT = (
    "(g.started_at + CASE WHEN g.k = 0 THEN p.n::float / %s * interval '4 hours' "
    "ELSE (p.n %% 10000)::float / g.size * interval '20 minutes' END)"
)


# Raised when the rows loaded change, so a load of an earlier layout is not reused.
LAYOUT = "v2"


@dataclass(frozen=True)
class Shape:
    slug: str
    contacts: int
    small_campaigns: int

    @property
    def loaded(self) -> str:
        # Set last: a company with this name has all its rows, in the layout of LAYOUT.
        return (
            f"Bench review {LAYOUT} ({self.contacts} contacts, "
            f"{self.small_campaigns + 1} campaigns)"
        )


MAIN = Shape("bench-review", 1_000_000, 99)
OTHER = Shape("bench-review-other", 100_000, 9)


def _insert(cursor, model: type[Model], values: dict[str, str], source: str, params=()) -> None:
    """``INSERT INTO <model's table> … SELECT <values> FROM <source>``; every column not in
    ``values`` gets its field's default, as the ORM would give it, so a field added later
    with a default needs nothing here."""
    defaults = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in values or field.null:
            continue
        if field.db_default is not NOT_PROVIDED:
            continue  # the database fills it in, as it does for the ORM
        value = field.get_db_prep_save(field.get_default(), connection)
        if value is None:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
        defaults[field.column] = (f"%s::{field.db_type(connection)}", value)
    # Defaults first: their placeholders then come before those of ``params``.
    columns = [*defaults, *values]
    expressions = [*(sql for sql, _ in defaults.values()), *values.values()]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    started = time.perf_counter()
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({quoted}) "
        f"SELECT {', '.join(expressions)} FROM {source}",
        [*(value for _, value in defaults.values()), *params],
    )
    note(f"  {cursor.rowcount} {model.__name__} rows in {time.perf_counter() - started:.1f} s")


def company_with_data(shape: Shape) -> Company:
    """The shape's company, loaded now unless a complete load of the last 20 hours is there."""
    company = Company.objects.filter(slug=shape.slug).first()
    fresh = company is not None and company.created_at > timezone.now() - timedelta(hours=20)
    reload = os.environ.get("BENCH_REVIEW_RELOAD", "") in ("1", "true", "yes")
    if company is not None and company.name == shape.loaded and fresh and not reload:
        note(f"reusing {shape.slug} ({shape.loaded}), loaded {company.created_at:%H:%M} UTC")
        return company
    if company is not None:
        note(f"{shape.slug}: loading it again (reload asked, cut short, or older than 20 hours)")
        _delete(company)
    started = time.perf_counter()
    company = Company.objects.create(name=f"{shape.loaded} (loading)", slug=shape.slug)
    try:
        _load(company, shape)
    except BaseException:
        _delete(company)
        raise
    Company.objects.filter(pk=company.pk).update(name=shape.loaded)
    note(f"loaded {shape.slug} in {time.perf_counter() - started:.0f} s")
    return company


def _delete(company: Company) -> None:
    Membership.objects.filter(company=company).delete()
    get_user_model().objects.filter(username=f"{company.slug}-member").delete()
    cb.delete_company(company)


def _load(company: Company, shape: Shape) -> None:
    now = timezone.now()
    big_start = now - timedelta(days=10)
    # The big campaign to everyone, ten days ago; the small ones spread over 90 days.
    campaigns = [
        Campaign(
            company=company,
            name="Spring sale: everyone",
            body=BODY,
            status=Campaign.Status.SENT,
            started_at=big_start,
            finished_at=big_start + timedelta(hours=4),
        )
    ]
    for k in range(1, shape.small_campaigns + 1):
        start = now - timedelta(days=90 - 0.9 * k)
        channel = Channel.EMAIL if k % 5 == 0 else Channel.SMS
        campaigns.append(
            Campaign(
                company=company,
                name=f"Weekly offer {k}",
                channel=channel,
                subject="This week's offer" if channel == Channel.EMAIL else "",
                body=BODY,
                status=Campaign.Status.SENT,
                started_at=start,
                finished_at=start + timedelta(minutes=20),
            )
        )
    with transaction.atomic():
        Campaign.objects.bulk_create(campaigns)
        LeaveReason.objects.bulk_create(
            LeaveReason(company=company, label=label, position=i)
            for i, label in enumerate(OWN_REASONS)
        )
        with connection.cursor() as cursor:
            _skip_foreign_key_checks(cursor)
            _load_rows(cursor, company, shape)
    started = time.perf_counter()
    cb.vacuum()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {SentTally._meta.db_table}")
    note(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


def _skip_foreign_key_checks(cursor) -> None:
    """The foreign keys are checked row by row at commit: some 5 million checks of rows
    made consistent by construction, most of the load's time. A superuser skips them for
    this transaction, as ``pg_restore --disable-triggers`` does; anyone else waits."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")
    else:
        note("  not a superuser: foreign keys are checked row by row (slower)")


def insert_contacts(cursor, company_id: int, count: int) -> None:
    """``count`` contacts of the company in one statement, numbered i from 0: their
    country and number follow from i (four in ten Dutch, one in four without an email)."""
    _insert(
        cursor,
        Contact,
        {
            "company_id": "%s",
            "country": "(ARRAY['NL','NL','NL','NL','FR','FR','DE','BE','GB','US'])[i %% 10 + 1]",
            "phone": "CASE i %% 10 WHEN 4 THEN '+336' || (10000000 + i) "
            "WHEN 5 THEN '+336' || (10000000 + i) WHEN 6 THEN '+49151' || (10000000 + i) "
            "WHEN 7 THEN '+324' || (60000000 + i) WHEN 8 THEN '+447' || (400000000 + i) "
            "WHEN 9 THEN '+1' || (2025550000 + i) ELSE '+316' || (10000000 + i) END",
            "email": "CASE WHEN i %% 4 = 3 THEN '' ELSE 'person' || i || '@example.com' END",
            "first_name": "'Anna'",
            "last_name": "'Jansen ' || i",
            "created_at": "now() - interval '200 days'",
            "updated_at": "now() - interval '200 days'",
        },
        "generate_series(0, %s) AS i ORDER BY i",
        [company_id, count - 1],
    )


def _load_rows(cursor, company: Company, shape: Shape) -> None:
    """Contacts, messages, tallies, opt-outs and suppressions, each in one statement.

    A contact is known by n, its place in the load (its id less the first id): its
    country and number follow from n, small campaign k (from 1) writes to the first
    2,000–10,000 contacts of the slice [(k-1)·10,000, k·10,000), and one contact in each
    ten opted out (n = 10·j + j mod 10, so every country has its share)."""
    contact, message = Contact._meta.db_table, Message._meta.db_table
    campaign, event = Campaign._meta.db_table, ConsentEvent._meta.db_table
    c = company.pk
    insert_contacts(cursor, c, shape.contacts)
    # Each contact with its n, and each campaign with its k (0: the big one), for the
    # statements below.
    cursor.execute(
        f"CREATE TEMPORARY TABLE bench_contact ON COMMIT DROP AS "
        f"SELECT id, id - min(id) OVER () AS n, phone, email, country "
        f"FROM {contact} WHERE company_id = %s",
        [c],
    )
    cursor.execute(
        f"CREATE TEMPORARY TABLE bench_campaign ON COMMIT DROP AS "
        f"SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, channel, started_at, "
        f"2000 + (row_number() OVER (ORDER BY id) - 1) * 37 %% 9 * 1000 AS size "
        f"FROM {campaign} WHERE company_id = %s",
        [c],
    )
    for table in ("bench_contact", "bench_campaign"):
        cursor.execute(f"ANALYZE {table}")
    # Each message with the moment it was handed over (see SENT_AT).
    recipients = (
        f"(SELECT p.id AS contact_id, p.n, p.phone, p.email, p.country, g.id AS campaign_id, "
        f"g.channel, {SENT_AT} AS at "
        "FROM bench_contact p JOIN bench_campaign g ON g.k = 0 "
        "UNION ALL "
        f"SELECT p.id, p.n, p.phone, p.email, p.country, g.id, g.channel, {SENT_AT} "
        "FROM bench_contact p JOIN bench_campaign g ON g.k = p.n / 10000 + 1 "
        "WHERE p.n %% 10000 < g.size AND (g.channel = 'sms' OR p.email <> '')) AS m"
    )
    status = "(ARRAY['failed','skipped','skipped','delivered'])[LEAST(m.n %% 100 / 3, 3) + 1]"
    _insert(
        cursor,
        Message,
        {
            "company_id": "%s",
            "campaign_id": "m.campaign_id",
            "contact_id": "m.contact_id",
            "channel": "m.channel",
            "to": "CASE WHEN m.channel = 'email' THEN m.email ELSE m.phone END",
            "country": "CASE WHEN m.channel = 'email' THEN '' ELSE m.country END",
            "sender": "'Bench'",
            "body": "%s",
            # 3% failed, 6% skipped as opted out, 61% delivered, 30% sent (no report yet).
            "status": f"CASE WHEN m.n %% 100 >= 70 THEN 'sent' ELSE {status} END",
            "created_at": "m.at",
            "sent_at": "CASE WHEN m.n %% 100 BETWEEN 3 AND 8 THEN NULL ELSE m.at END",
            "delivered_at": "CASE WHEN m.n %% 100 BETWEEN 9 AND 69 "
            "THEN m.at + interval '4 seconds' END",
        },
        recipients,
        [c, BODY, shape.contacts, shape.contacts],
    )
    # What the hand-off counts: every message the gateway took, per hour and country.
    _insert(
        cursor,
        SentTally,
        {
            "company_id": "%s",
            "campaign_id": "campaign_id",
            "channel": "channel",
            "hour": "date_trunc('hour', sent_at)",
            "country": "country",
            "sent": "count(*)",
        },
        f"{message} WHERE company_id = %s AND status IN ('sent', 'delivered', 'failed') "
        "GROUP BY campaign_id, channel, date_trunc('hour', sent_at), country",
        [c, c],
    )
    _load_optouts(cursor, company, shape, event)


def _load_optouts(cursor, company: Company, shape: Shape, event: str) -> None:
    """One opt-out per tenth contact: 15% after the big campaign, 70% after the small one
    that wrote to them (the big one when none did), 15% by API, dashboard, import or
    admin. Attributed ones come minutes to a day after their message."""
    # Which campaign each opted-out contact heard from, if any: s, the small one that
    # may have written to them; g, the one chosen.
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_optout ON COMMIT DROP AS "
        "SELECT p.id, p.n, p.phone, p.email, p.country, p.j, g.id AS campaign_id, g.channel, "
        f"{SENT_AT} AS sent_at "
        "FROM (SELECT *, n / 10 AS j FROM bench_contact WHERE n %% 10 = n / 10 %% 10) AS p "
        "LEFT JOIN bench_campaign s ON s.k = p.n / 10000 + 1 AND p.n %% 10000 < s.size "
        "  AND (s.channel = 'sms' OR p.email <> '') "
        "LEFT JOIN bench_campaign g ON g.k = CASE WHEN p.j %% 20 < 3 THEN 0 "
        "  WHEN p.j %% 20 < 17 THEN COALESCE(s.k, 0) END",
        [shape.contacts],
    )
    email = "o.channel = 'email'"
    source = (
        "CASE WHEN o.campaign_id IS NULL "
        "THEN (ARRAY['api', 'dashboard', 'import', 'admin'])[o.j / 20 %% 4 + 1] "
        f"WHEN {email} THEN (ARRAY['email_link', 'one_click'])[o.j %% 2 + 1] "
        "WHEN o.country IN ('NL', 'FR', 'DE', 'BE', 'GB') AND o.j %% 3 < 2 THEN 'sms_keyword' "
        "ELSE 'landing_page' END"
    )
    # Quadratic in a uniform draw: most leave within the first hours, a few a day later.
    delay = "((o.j * 7919) %% 1000) ^ 2 * interval '0.1 seconds'"
    spread = "(o.j %% 90) * interval '1 day' + (o.j * 13 %% 86400) * interval '1 second'"
    at = (
        f"CASE WHEN o.campaign_id IS NULL THEN now() - ({spread}) "
        f"ELSE LEAST(now(), o.sent_at + {delay}) END"
    )
    reasons = ["", "", "too_many", "not_relevant", "never_signed_up", "other", *OWN_REASONS, ""]
    _insert(
        cursor,
        ConsentEvent,
        {
            "company_id": "%s",
            "address": f"CASE WHEN {email} THEN o.email ELSE o.phone END",
            "country": f"CASE WHEN {email} THEN '' ELSE o.country END",
            "kind": "'opt_out'",
            "source": "o.source",
            "campaign_id": "o.campaign_id",
            # As recording stores it: when the campaign's message to them went out.
            "message_sent_at": "CASE WHEN o.campaign_id IS NOT NULL THEN o.sent_at END",
            "reason": "(%s::text[])[o.j %% 10 + 1]",
            "reason_text": "CASE WHEN o.j %% 10 = 5 THEN 'Free text answer ' || o.j ELSE '' END",
            "raw_text": "CASE WHEN o.source = 'sms_keyword' THEN 'STOP' ELSE '' END",
            "created_at": "o.at",
        },
        # In time order, as they happened: the API's feed walks ids.
        f"(SELECT o.*, {source} AS source, {at} AS at FROM bench_optout o) o ORDER BY o.at",
        [company.pk, reasons],
    )
    _insert(
        cursor,
        Suppression,
        {
            "company_id": "company_id",
            "address": "address",
            "country": "country",
            "event_id": "id",
            "created_at": "created_at",
        },
        f"{event} WHERE company_id = %s ORDER BY created_at, id",
        [company.pk],
    )


# --- Measuring ------------------------------------------------------------------------


def member_client(company: Company) -> Client:
    """A marketer of the company, signed in (no second factor: none is set up)."""
    user, _ = get_user_model().objects.get_or_create(username=f"{company.slug}-member")
    Membership.objects.get_or_create(user=user, company=company)
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Measured:
    ms: float
    queries: list  # of the first GET, slowest first
    runs: int
    timed_out: bool = False


def measure(client: Client, url: str, *, shows: str, warmups: int, runs: int) -> Measured:
    """The median milliseconds of ``runs`` GETs after ``warmups``; the first GET's
    queries. A page slower than SLOW_MS is fetched once: its queries tell enough."""
    try:
        with CaptureQueriesContext(connection) as captured:
            first, response = _timed_get(client, url)
    except OperationalError:  # statement_timeout: one query ran longer than that
        return Measured(_timeout_ms(), _slowest(captured.captured_queries), 1, timed_out=True)
    # Spaces removed: a number may be shown grouped.
    if re.sub(r"\s", "", shows) not in re.sub(r"\s", "", response.content.decode()):
        note(f"warning: {url} does not show {shows}: not the page meant to be measured")
    queries = _slowest(captured.captured_queries)
    if first > SLOW_MS:
        return Measured(first, queries, 1)
    for _ in range(warmups - 1):
        _timed_get(client, url)
    times = [_timed_get(client, url)[0] for _ in range(runs)]
    return Measured(statistics.median(times), queries, runs)


def _timed_get(client: Client, url: str) -> tuple[float, HttpResponse]:
    started = time.perf_counter()
    response = client.get(url, secure=True)
    ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    return ms, response


def _slowest(queries: list) -> list:
    # A query cut off by the timeout has no time: it is the slowest.
    return sorted(queries, key=lambda q: -float(q["time"] or "inf"))


def _timeout_ms() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting::float FROM pg_settings WHERE name = 'statement_timeout'")
        return cursor.fetchone()[0]


def explain(queries: list, path: Path, *, top: int = 3) -> Path:
    """The plans of a slow page's slowest reads: EXPLAIN ANALYZE, or the plan alone for
    a query that does not finish within the statement timeout."""
    reads = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    with path.open("w") as out:
        out.write("The page's queries, slowest first (ms):\n")
        out.writelines(
            f"{float(q['time'] or 'nan') * 1000:8.1f}  {q['sql'][:150]}\n" for q in queries
        )
        out.write("\n\n")
        for sql in reads[:top]:
            escaped = sql.replace("%", "%%")
            try:
                plan = _plan("EXPLAIN (ANALYZE, BUFFERS) " + escaped)
            except OperationalError:
                plan = "(did not finish within the statement timeout)\n"
                plan += _plan("EXPLAIN " + escaped)
            out.write(f"{sql}\n\n{plan}\n\n{'-' * 80}\n\n")
    return path


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql, [])
        return "\n".join(row[0] for row in cursor.fetchall())


def pages(company: Company) -> list[tuple[str, str, str]]:
    """The measured pages: BENCH name, URL, and a text the page must show."""
    big = Campaign.objects.filter(company=company).order_by("id").first()
    searched = (
        Suppression.objects.filter(company=company, address__startswith="+316")
        .order_by("id")[1000]
        .address
    )
    typed = f"0{searched[3:4]} {searched[4:8]} {searched[8:]}"  # +31612345678 → 06 1234 5678
    insights = reverse("insights:insights")
    suppressions = reverse("optout:suppression-list")
    return [
        ("insights_page_ms", insights, OWN_REASONS[0]),
        ("insights_page_90_days_ms", f"{insights}?range=90", OWN_REASONS[0]),
        ("campaign_report_ms", reverse("campaigns:campaign-detail", args=[big.pk]), big.name),
        ("suppression_list_page_ms", suppressions, "+31"),
        ("suppression_list_later_page_ms", f"{suppressions}?page=1000", "+31"),
        ("suppression_search_ms", f"{suppressions}?q={typed.replace(' ', '+')}", searched),
    ]


def as_production() -> None:
    """As production renders: templates without debug information, no SQL kept per
    query; and the test client's host allowed."""
    settings.DEBUG = False
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def review_part(*, out: Path) -> None:
    if connection.vendor != "postgresql":
        note("review: skipped; its million rows are loaded with PostgreSQL's SQL: set DATABASE_URL")
        return
    warmups = int(os.environ.get("BENCH_REVIEW_WARMUPS", "2"))
    runs = int(os.environ.get("BENCH_REVIEW_RUNS", "7"))
    timeout = int(os.environ.get("BENCH_REVIEW_QUERY_TIMEOUT", "20"))
    out.mkdir(parents=True, exist_ok=True)
    as_production()
    company_with_data(OTHER)
    company = company_with_data(MAIN)
    client = member_client(company)
    note(
        f"{MAIN.contacts} contacts, {Message.objects.filter(company=company).count()} messages "
        f"in {MAIN.small_campaigns + 1} campaigns, "
        f"{ConsentEvent.objects.filter(company=company).count()} opt-outs; "
        f"beside a company of {OTHER.contacts} contacts; {warmups} warm-ups, median of {runs}, "
        f"statement_timeout {timeout} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = %s", [f"{timeout}s"])
    try:
        for name, url, shows in pages(company):
            measured = measure(client, url, shows=shows, warmups=warmups, runs=runs)
            slowest = ", ".join(
                f"{float(q['time'] or 'nan') * 1000:.0f}" for q in measured.queries[:3]
            )
            note(
                f"{url}: {len(measured.queries)} queries, slowest {slowest} ms; "
                f"{'timed out' if measured.timed_out else f'median of {measured.runs}'}"
            )
            if measured.ms > GOAL_MS:
                path = explain(measured.queries, out / f"review-explain-{name[:-3]}.txt")
                note(f"over {GOAL_MS} ms: the plans of its slowest queries in {path}")
            bench(name, measured.ms, "ms")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    note(f"goal (not asserted): each page under {GOAL_MS} ms on PostgreSQL")
