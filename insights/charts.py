"""The insights page's charts, built from the selectors' aggregates.

Every function turns numbers the database counted into a ``Chart``: labels in the
company's terms (days in its time zone, reason texts, campaign names), buckets without
events as 0, and the rate beside the counts it comes from.
"""

from collections.abc import Callable
from datetime import date, timedelta

from addressbook.charts import Chart, Series
from campaigns.insights import CampaignSent
from optout.models import Source

TOP = 20  # bars in a ranking: more do not read on a phone


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, two decimals; None when nothing was sent."""
    return round(100 * part / whole, 2) if whole else None


def bucket_starts(first: date, last: date, *, weekly: bool) -> list[date]:
    """Every day from ``first`` to ``last``, or the Monday of every week they touch."""
    if weekly:
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if weekly else 1)
    starts = []
    while first <= last:
        starts.append(first)
        first += step
    return starts


def optouts_over_time(
    counts: dict[tuple[date, str], int], *, first: date, last: date, weekly: bool
) -> Chart:
    starts = bucket_starts(first, last, weekly=weekly)
    present = {source for _, source in counts}
    return Chart(
        id="optouts-over-time",
        title="Opt-outs over time",
        description="per week, by how people left" if weekly else "per day, by how people left",
        kind="bar",
        stacked=True,
        labels=[d.isoformat() for d in starts],
        label_header="Week starting" if weekly else "Day",
        series=[
            Series(label, [counts.get((d, source), 0) for d in starts], color=source)
            for source, label in Source.choices
            if source in present
        ],
    )


def rate_by_campaign(
    campaigns: list[CampaignSent], optouts: dict[int, int], *, link: Callable[[int], str]
) -> Chart:
    rows = sorted(
        ((c, optouts.get(c.id, 0)) for c in campaigns),
        key=lambda row: (-row[1] / row[0].sent if row[0].sent else 0, -row[1], row[0].id),
    )
    shown = rows[:TOP]
    description = "campaigns that sent in the period, worst first"
    if len(rows) > TOP:
        description = f"the {TOP} worst of {len(rows)} campaigns that sent in the period"
    return Chart(
        id="rate-by-campaign",
        title="Opt-out rate per campaign",
        description=f"{description}: opt-outs attributed to it ÷ messages it sent",
        kind="hbar",
        unit="%",
        label_header="Campaign",
        labels=[c.name for c, _ in shown],
        links=[link(c.id) for c, _ in shown],
        series=[
            Series("Opt-out rate", [percent(n, c.sent) or 0 for c, n in shown], color="rate"),
            Series("Opt-outs", [n for _, n in shown], unit="", plot=False),
            Series("Sent", [c.sent for c, _ in shown], unit="", plot=False),
        ],
    )


def reasons(counts: list[tuple[str, int]]) -> Chart:
    total = sum(n for _, n in counts)
    return Chart(
        id="reasons",
        title="Why people left",
        description="the reason each opt-out gave",
        kind="doughnut",
        label_header="Reason",
        labels=[label for label, _ in counts],
        series=[
            Series("Opt-outs", [n for _, n in counts]),
            Series("Share", [percent(n, total) for _, n in counts], unit="%", plot=False),
        ],
    )


def time_to_optout(buckets: list[tuple[str, int]]) -> Chart:
    return Chart(
        id="time-to-optout",
        title="Time from send to opt-out",
        description="opt-outs attributed to a campaign, by how long after their message",
        kind="bar",
        label_header="After the message",
        labels=[label for label, _ in buckets],
        series=[Series("Opt-outs", [n for _, n in buckets])],
    )


def by_country(optouts: dict[str, tuple[int, int]], sent: dict[str, int]) -> Chart:
    countries = sorted(
        set(optouts) | set(sent),
        key=lambda c: (-optouts.get(c, (0, 0))[0], -sent.get(c, 0), c),
    )[:TOP]
    return Chart(
        id="by-country",
        title="By destination country",
        description="opt-outs per country of the number; the rate over campaign opt-outs",
        kind="hbar",
        label_header="Country",
        labels=[c or "Email" for c in countries],
        series=[
            Series("Opt-outs", [optouts.get(c, (0, 0))[0] for c in countries]),
            Series("From campaigns", [optouts.get(c, (0, 0))[1] for c in countries], plot=False),
            Series("Sent", [sent.get(c, 0) for c in countries], plot=False),
            Series(
                "Opt-out rate",
                [percent(optouts.get(c, (0, 0))[1], sent.get(c, 0)) for c in countries],
                unit="%",
                plot=False,
            ),
        ],
    )
