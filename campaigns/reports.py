"""A campaign's report: what became of its messages, and who left because of it.

Every part is an aggregate the database computes: the funnel reuses the status counts the
page's progress card has already made, so no message is counted twice; sending per
country comes from ``SentTally``, opt-outs from ``ConsentEvent`` on its (company,
campaign_id) index, grouped in SQL. No message or event is loaded into Python.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, DateTimeField, F, Func, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Least

from addressbook.charts import Chart, Series
from addressbook.exports import line_writer
from optout.models import ConsentEvent

from .models import Campaign, Channel, EmailFeedback, SentTally
from .selectors import CampaignProgress

# Opt-outs per hour after the send: at most this many hours drawn one by one; later ones
# share a last bar.
HOURS = 48
# Countries drawn one by one, most sent first; the rest share a last bar.
COUNTRIES = 10
REPORT_CSV = "report"


class WholeHoursSince(Func):
    """Whole hours from a moment (the second expression) to a datetime column (the first),
    computed by the database, so events are grouped without being loaded."""

    arity = 2
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(FLOOR(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600) AS integer)",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            # Rounded to the millisecond first: julianday's floating point would put an
            # event at exactly 1 h into hour 0.
            template="CAST(ROUND((julianday(%(expressions)s)) * 86400000) / 3600000 AS integer)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


@dataclass(frozen=True)
class CampaignReport:
    funnel: Chart
    hours: Chart
    reasons: Chart
    countries: Chart | None  # SMS only: an email opt-out has no country

    @property
    def charts(self) -> list[Chart]:
        return [c for c in (self.funnel, self.hours, self.reasons, self.countries) if c]

    def chart(self, chart_id: str) -> Chart | None:
        return next((c for c in self.charts if c.id == chart_id), None)


def campaign_report(
    *, campaign: Campaign, progress: CampaignProgress, reasons: list[tuple[str, int]]
) -> CampaignReport:
    """The report of a campaign that has started sending.

    ``progress`` is the page's own (its status counts are reused, not counted again);
    ``reasons`` the campaign's opt-outs counted per reason, as ``campaign_optouts`` gives.
    """
    events = ConsentEvent.objects.filter(
        company_id=campaign.company_id, campaign_id=campaign.pk, kind=ConsentEvent.Kind.OPT_OUT
    )
    feedback = email_feedback_counts(campaign) if campaign.channel == Channel.EMAIL else None
    return CampaignReport(
        funnel=funnel_chart(progress, feedback=feedback),
        hours=hours_chart(events, started_at=campaign.started_at),
        reasons=reasons_chart(reasons),
        countries=countries_chart(campaign, events) if campaign.channel == Channel.SMS else None,
    )


def email_feedback_counts(campaign: Campaign) -> dict[str, int]:
    """The campaign's messages the email service reported bounced (permanently or not)
    and complained of, each message counted once per kind."""
    counts = dict(
        EmailFeedback.objects.filter(company_id=campaign.company_id, campaign_id=campaign.pk)
        .values_list("kind")
        .annotate(n=Count("message_id", distinct=True))
        .order_by()
    )
    return {
        "bounced": counts.get(EmailFeedback.Kind.HARD_BOUNCE, 0)
        + counts.get(EmailFeedback.Kind.SOFT_BOUNCE, 0),
        "complained": counts.get(EmailFeedback.Kind.COMPLAINT, 0),
    }


def funnel_chart(progress: CampaignProgress, *, feedback: dict[str, int] | None = None) -> Chart:
    """Each step counted from message statuses, as a share of the audience:

    - Audience: everyone the campaign goes to (while it sends, those its planned chunks
      cover, messages made or not);
    - Skipped: opted out: messages not sent because the address was suppressed, when the
      message was made or when it was about to be handed over (status ``skipped``);
    - Sent: messages the gateway accepted and has not reported failed (``sent`` and
      ``delivered``);
    - Delivered: of those, the ones a delivery report says reached the phone;
    - Failed: refused by the gateway at hand-off, or reported undelivered later;
    - Opted out: opt-outs attributed to the campaign (its link, or a STOP reply to it);
    - Bounced, Complained (email, with ``feedback``): messages the email service reported
      bounced, and marked as spam by the recipient (a complaint is an opt-out too).

    Messages still queued and those cancelled are in the audience and in no later step.
    """
    stats = progress.stats
    steps = [
        ("Audience", progress.total),
        ("Skipped: opted out", stats.skipped),
        ("Sent", stats.sent),
        ("Delivered", progress.delivered),
        ("Failed", stats.failed),
        ("Opted out", stats.optouts),
    ]
    if feedback is not None:
        steps += [("Bounced", feedback["bounced"]), ("Complained", feedback["complained"])]
    return Chart(
        id="funnel",
        title="From audience to opt-out",
        kind="hbar",
        labels=[label for label, _ in steps],
        series=[
            Series("Messages", [n for _, n in steps]),
            Series(
                "% of audience",
                [_percent(n, progress.total) for _, n in steps],
                unit="%",
                plot=False,
            ),
        ],
        label_header="Step",
        description="Delivered and failed as the gateway reported them.",
    )


def hours_chart(events: QuerySet[ConsentEvent], *, started_at: datetime | None) -> Chart:
    """Opt-outs per whole hour since sending started: from hour 0 to the last opt-out's
    hour, at most ``HOURS`` bars, then one for all later ones."""
    counts: dict[int, int] = {}
    if started_at is not None:
        since = WholeHoursSince(F("created_at"), Value(started_at, output_field=DateTimeField()))
        counts = dict(
            events.filter(created_at__gte=started_at)
            .order_by()
            .annotate(hour=Least(since, Value(HOURS)))
            .values("hour")
            .annotate(n=Count("id"))
            .values_list("hour", "n")
        )
    last = max(counts, default=-1)
    labels = [f"{hour} h" for hour in range(min(last, HOURS - 1) + 1)]
    if last == HOURS:
        labels.append(f"{HOURS} h or later")
    return Chart(
        id="optout-hours",
        title="Opt-outs per hour after the send",
        kind="bar",
        labels=labels,
        series=[Series("Opt-outs", [counts.get(hour, 0) for hour in range(len(labels))])],
        label_header="Hours since sending started",
        description="Hour 0 is the first hour after sending started.",
    )


def reasons_chart(reasons: list[tuple[str, int]]) -> Chart:
    """The share of each reason given, the company's own and the defaults alike."""
    merged = Counter()
    for label, n in reasons:  # a company's own "Other" and the default one read the same
        merged[label] += n
    total = sum(merged.values())
    rows = merged.most_common()
    return Chart(
        id="reasons",
        title="Reasons given",
        kind="doughnut",
        labels=[label for label, _ in rows],
        series=[
            Series("Opt-outs", [n for _, n in rows]),
            Series("Share", [_percent(n, total) for _, n in rows], unit="%", plot=False),
        ],
        label_header="Reason",
    )


def countries_chart(campaign: Campaign, events: QuerySet[ConsentEvent]) -> Chart:
    """Per destination country: messages the gateway accepted (``SentTally``, so a
    message later reported failed still counts), opt-outs from numbers of that country,
    and the one as a share of the other. The most sent first; past ``COUNTRIES``, one
    row for the rest."""
    sent = dict(
        SentTally.objects.filter(company_id=campaign.company_id, campaign=campaign)
        .order_by()
        .values("country")
        .annotate(n=Sum("sent"))
        .values_list("country", "n")
    )
    optouts = dict(
        events.order_by().values("country").annotate(n=Count("id")).values_list("country", "n")
    )
    ordered = sorted(sent.keys() | optouts.keys(), key=lambda c: (-sent.get(c, 0), c))
    rows = [(code or "Unknown", sent.get(code, 0), optouts.get(code, 0)) for code in ordered]
    if len(rows) > COUNTRIES:
        rest = rows[COUNTRIES - 1 :]
        rows = rows[: COUNTRIES - 1]
        rows.append(("Other countries", sum(r[1] for r in rest), sum(r[2] for r in rest)))
    return Chart(
        id="countries",
        title="Opt-out rate per country",
        kind="bar",
        labels=[label for label, _, _ in rows],
        series=[
            Series("Opt-out rate", [_percent(n, s, 2) for _, s, n in rows], color="rate"),
            Series("Accepted by the gateway", [s for _, s, _ in rows], unit="", plot=False),
            Series("Opt-outs", [n for _, _, n in rows], unit="", plot=False),
        ],
        unit="%",
        label_header="Country",
        description="Opt-outs per message the gateway accepted.",
    )


def report_csv(report: CampaignReport) -> Iterator[str]:
    """The whole report as one CSV: each chart's table under its title, a blank line
    between them; cells a spreadsheet would run are escaped."""
    writer = line_writer()
    yield "\ufeff"
    for index, chart in enumerate(report.charts):
        if index:
            yield writer.writerow([])
        yield writer.writerow([chart.title])
        yield writer.writerow(chart.header)
        for row in chart.rows:
            yield writer.writerow(row)


def _percent(part: int, whole: int, digits: int = 1) -> float:
    return round(100 * part / whole, digits) if whole else 0.0
