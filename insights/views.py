from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from addressbook.charts import chart_csv
from addressbook.tenancy import company_required
from campaigns import insights as sending
from campaigns import overview as campaign_overview
from campaigns.models import Channel
from optout import insights as leaving

from . import charts

PRESETS = {"7": 7, "30": 30, "90": 90}
EARLIEST = date(2000, 1, 1)  # before any opt-out we hold; and far from date.min
LONGEST = 3 * 366  # days: a longer range is a mistake, not a question
WEEKLY_AFTER = 62  # days: beyond about two months a day's bar is too thin to read
ANSWERS_PER_PAGE = 20


class InsightsFilter(forms.Form):
    range = forms.ChoiceField(
        label="Period",
        required=False,
        choices=[
            ("7", "Last 7 days"),
            ("30", "Last 30 days"),
            ("90", "Last 90 days"),
            ("custom", "From … to …"),
        ],
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "All channels"), *Channel.choices]
    )
    q = forms.CharField(label="Search answers", required=False, max_length=100)

    def __init__(self, data, *, today: date):
        data = data.copy()
        if not data.get("range") and not data.get("start") and not data.get("end"):
            data["range"] = "30"  # shown as chosen, not only applied
        super().__init__(data)
        self.today = today

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:  # a field said what is wrong
            return data
        start, end = data.get("start"), data.get("end")
        # Dates typed without choosing "From … to …" mean those dates.
        if data.get("range") == "custom" or (not data.get("range") and (start or end)):
            end = end or self.today
            start = start or end - timedelta(days=29)
            if start > end:
                raise forms.ValidationError("The first day comes after the last.")
            if start < EARLIEST or end > self.today + timedelta(days=366):
                raise forms.ValidationError("Choose days from the year 2000 to next year.")
            if (end - start).days >= LONGEST:
                raise forms.ValidationError("Choose a period of at most three years.")
            data["range"] = "custom"
        else:
            days = PRESETS[data["range"]]
            end, start = self.today, self.today - timedelta(days=days - 1)
        data["start"], data["end"] = start, end
        return data


@dataclass(frozen=True)
class Figure:
    """A headline number and the same number for the period before."""

    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        """In percent of the previous value; None where there is nothing to compare."""
        if self.value is None or not self.previous:
            return None
        return round(100 * (self.value - self.previous) / self.previous, 1)

    @property
    def difference(self) -> float | None:
        """For a rate: the change in percentage points."""
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 2)


def _period(company, first: date, last: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(company.timezone)
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _before(company, start: datetime, end: datetime, channel: str) -> tuple[int, int, int]:
    """(opt-outs, of which attributed to a campaign, sent) in [start, end)."""
    events = leaving.optouts(company=company, start=start, end=end, channel=channel)
    optouts, attributed = leaving.optout_totals(events)
    tallies = sending.tallies(company=company, start=start, end=end, channel=channel)
    return optouts, attributed, sending.sent_total(tallies)


@require_GET
@company_required
def insights(request: HttpRequest) -> HttpResponse:
    """The company's opt-outs in a period: headline figures, charts, and what people wrote."""
    company = request.company
    zone = ZoneInfo(company.timezone)
    form = InsightsFilter(request.GET, today=timezone.localdate(timezone=zone))
    if not form.is_valid():
        return render(request, "insights/insights.html", {"form": form}, status=400)
    first, last = form.cleaned_data["start"], form.cleaned_data["end"]
    channel = form.cleaned_data["channel"]
    days = (last - first).days + 1
    start, end = _period(company, first, last)
    # The same number of days just before, in the company's calendar.
    previous_start, _ = _period(company, first - timedelta(days=days), first)

    events = leaving.optouts(company=company, start=start, end=end, channel=channel)
    tallies = sending.tallies(company=company, start=start, end=end, channel=channel)
    weekly = days > WEEKLY_AFTER
    breakdown = leaving.optout_breakdown(events)
    found = [
        charts.optouts_over_time(
            leaving.optouts_by_period_and_source(events, zone=zone, weekly=weekly),
            first=first,
            last=last,
            weekly=weekly,
        ),
        charts.rate_by_campaign(
            sending.sent_by_campaign(tallies),
            breakdown.by_campaign,
            link=lambda pk: reverse("campaigns:campaign-detail", args=[pk]),
        ),
        charts.reasons(breakdown.by_reason),
        charts.time_to_optout(leaving.optout_delays(events)),
        charts.by_country(breakdown.by_country, sending.sent_by_country(tallies)),
    ]
    if wanted := request.GET.get("csv"):
        chart = next((c for c in found if c.id == wanted), None)
        if chart is None:
            raise Http404("No such chart on this page.")
        return chart_csv(chart, filename=f"{chart.id}-{first}-{last}.csv")

    sent = sending.sent_total(tallies)
    before = _before(company, previous_start, start, channel)
    headline = {
        "optouts": Figure(breakdown.total, before[0]),
        "attributed": breakdown.attributed,
        "sent": Figure(sent, before[2]),
        "rate": Figure(
            charts.percent(breakdown.attributed, sent), charts.percent(before[1], before[2])
        ),
    }
    answers = Paginator(
        leaving.free_text_answers(events, query=form.cleaned_data["q"]), ANSWERS_PER_PAGE
    ).get_page(request.GET.get("page"))
    names = campaign_overview.campaign_names(
        company=company, ids={a.campaign_id for a in answers if a.campaign_id}
    )
    return render(
        request,
        "insights/insights.html",
        {
            "form": form,
            "first": first,
            "last": last,
            "days": days,
            "headline": headline,
            "charts": found,
            "answers": answers,
            "answer_rows": [(a, names.get(a.campaign_id)) for a in answers],
        },
    )
