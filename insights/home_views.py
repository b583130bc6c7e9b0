"""The home page: this week at a glance, what is sending, and what needs a decision."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from addressbook.charts import Chart, Series, chart_csv
from addressbook.models import Company, Contact
from addressbook.tenancy import company_required
from campaigns import overview as campaign_overview
from optout import overview as optout_overview

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Weeks:
    """This week so far and last week up to the same moment, in the company's zone (a
    week starts on Monday): comparing a Tuesday with a whole week would always look like
    a fall."""

    zone: zoneinfo.ZoneInfo
    monday: date
    start: datetime
    now: datetime
    last_start: datetime
    last_now: datetime

    @classmethod
    def around(cls, moment: datetime, zone: zoneinfo.ZoneInfo) -> "Weeks":
        local = timezone.localtime(moment, zone)
        monday = local.date() - timedelta(days=local.weekday())
        # Midnights and "a week ago" on the wall clock, so a DST change keeps them right.
        return cls(
            zone=zone,
            monday=monday,
            start=datetime.combine(monday, time.min, tzinfo=zone),
            now=moment,
            last_start=datetime.combine(monday - WEEK, time.min, tzinfo=zone),
            last_now=datetime.combine(local.date() - WEEK, local.time(), tzinfo=zone),
        )

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    @property
    def end(self) -> datetime:
        return datetime.combine(self.monday + WEEK, time.min, tzinfo=self.zone)


@dataclass(frozen=True)
class Figure:
    """A number of this week beside last week's at the same point."""

    value: int | Decimal | None
    last: int | Decimal | None
    unit: str = ""  # "%" for a rate: its change is in percentage points

    @property
    def change(self) -> Decimal | None:
        """Percent change of a count; percentage points of a rate; None: nothing to compare."""
        if self.value is None or self.last is None:
            return None
        if self.unit == "%":
            return Decimal(self.value - self.last).quantize(Decimal("0.1"))
        if not self.last:
            return None
        return (Decimal(100 * (self.value - self.last)) / self.last).quantize(Decimal("1"))

    @property
    def arrow(self) -> str:
        if self.change is None or not self.change:
            return "→" if self.change is not None else ""
        return "↑" if self.change > 0 else "↓"


def _rate(optouts: int, sent: int) -> Decimal | None:
    if not sent:
        return None
    return (Decimal(100 * optouts) / sent).quantize(Decimal("0.01"))


def _week_charts(company: Company, weeks: Weeks) -> tuple[Chart, Chart]:
    days = weeks.days
    sent = campaign_overview.sent_by_day(
        company=company, start=weeks.start, end=weeks.end, zone=weeks.zone
    )
    left = optout_overview.optouts_by_day(
        company=company, start=weeks.start, end=weeks.end, zone=weeks.zone
    )
    labels = [f"{day:%a} {day.day}" for day in days]
    sent_values = [sent.get(day, 0) for day in days]
    left_values = [left.get(day, 0) for day in days]
    rates = [_rate(n, s) for n, s in zip(left_values, sent_values, strict=True)]
    sent_chart = Chart(
        id="week-sent",
        title="Sent this week",
        kind="bar",
        labels=labels,
        series=[Series("Sent", sent_values, color="sms")],
        label_header="Day",
        description="campaign messages the gateway took, per day",
    )
    left_chart = Chart(
        id="week-optouts",
        title="Opt-outs this week",
        kind="bar",
        labels=labels,
        series=[
            Series("Opt-outs", left_values, color="rate"),
            Series("Opt-out rate", rates, unit="%", plot=False),
        ],
        label_header="Day",
        description="per day, uploaded lists left out",
    )
    return sent_chart, left_chart


@require_GET
@company_required
def home(request: HttpRequest) -> HttpResponse:
    company = request.company
    if not (
        campaign_overview.has_campaigns(company=company)
        or Contact.objects.filter(company=company).exists()
    ):
        return render(request, "insights/home.html", {"new": True})
    weeks = Weeks.around(timezone.now(), zoneinfo.ZoneInfo(company.timezone))
    charts = _week_charts(company, weeks)
    for chart in charts:
        if request.GET.get("csv") == chart.id:
            return chart_csv(chart, filename=f"{chart.id}-{weeks.monday:%Y-%m-%d}.csv")
    sent = campaign_overview.sent_between(company=company, start=weeks.start, end=weeks.now)
    last_sent = campaign_overview.sent_between(
        company=company, start=weeks.last_start, end=weeks.last_now
    )
    left = optout_overview.optouts_between(company=company, start=weeks.start, end=weeks.now)
    last_left = optout_overview.optouts_between(
        company=company, start=weeks.last_start, end=weeks.last_now
    )
    latest = optout_overview.latest_optouts(company=company)
    names = campaign_overview.campaign_names(
        company=company, ids={e.campaign_id for e in latest if e.campaign_id}
    )
    context = {
        "weeks": weeks,
        "sent": Figure(sent, last_sent),
        "optouts": Figure(left, last_left),
        "rate": Figure(_rate(left, sent), _rate(last_left, last_sent), unit="%"),
        "charts": charts,
        "suppressed": optout_overview.suppression_count(company=company),
        "latest": [
            (event, names.get(event.campaign_id), _campaign_url(event.campaign_id, names))
            for event in latest
        ],
        "sending": campaign_overview.campaigns_sending(company=company),
        "alarms": campaign_overview.campaigns_paused_by_alarm(company=company),
    }
    return render(request, "insights/home.html", context)


def _campaign_url(campaign_id: int | None, names: dict[int, str]) -> str:
    if campaign_id not in names:
        return ""
    return reverse("campaigns:campaign-detail", args=[campaign_id])
