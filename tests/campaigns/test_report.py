"""A sent campaign's report: the funnel, opt-outs per hour, reasons and countries, each
number hand-counted from the fixture, on the page, in its table and in the CSVs."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.models import Campaign, Channel, Message, SentTally
from optout.models import LeaveReason
from optout.services import record_optout
from tests.factories import CampaignFactory

STARTED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
S = Message.Status
# Per country, the statuses of its messages: 10 in all.
MESSAGES = {
    "NL": [S.DELIVERED] * 3 + [S.SENT, S.FAILED, S.SKIPPED, S.CANCELLED],
    "FR": [S.DELIVERED, S.SENT, S.FAILED],
}
PHONES = {"NL": "+3161{:07d}", "FR": "+3361{:07d}"}
# What the gateway accepted, per UTC hour: NL's failed one was reported undelivered
# after it was accepted; FR's was refused at hand-off and never counted.
TALLIES = [("NL", 9, 3), ("NL", 10, 2), ("FR", 9, 2)]
# Opt-outs attributed to the campaign: (time after the start, country, reason).
OPTOUTS = [
    (timedelta(minutes=5), "NL", "too_many"),
    (timedelta(minutes=59, seconds=59), "NL", "I moved abroad"),
    (timedelta(hours=1), "FR", ""),
    (timedelta(hours=3, minutes=10), "NL", "too_many"),
    (timedelta(hours=50), "NL", "other"),
]


def build_reported_campaign(company, *, name: str = "Winter sale", serial: int = 0) -> Campaign:
    """The campaign the numbers below are counted from, and an opt-out attributed to
    another campaign, which must not count."""
    LeaveReason.objects.get_or_create(company=company, label="I moved abroad")
    campaign = CampaignFactory(
        company=company, name=name, status=Campaign.Status.SENT, started_at=STARTED
    )
    Message.objects.bulk_create(
        Message(
            company=company,
            campaign=campaign,
            to=PHONES[country].format(serial * 1000 + i),
            country=country,
            status=status,
        )
        for country, statuses in MESSAGES.items()
        for i, status in enumerate(statuses)
    )
    SentTally.objects.bulk_create(
        SentTally(
            company=company,
            campaign=campaign,
            channel=Channel.SMS,
            hour=STARTED.replace(hour=hour, minute=0),
            country=country,
            sent=n,
        )
        for country, hour, n in TALLIES
    )
    for i, (after, country, reason) in enumerate(OPTOUTS):
        with time_machine.travel(STARTED + after, tick=False):
            record_optout(
                company=company,
                address=PHONES[country].format(serial * 1000 + 500 + i),
                source="landing_page",
                campaign_id=campaign.pk,
                reason=reason,
            )
    with time_machine.travel(STARTED + timedelta(hours=2), tick=False):
        record_optout(
            company=company,
            address=PHONES["NL"].format(serial * 1000 + 900),
            source="api",
            campaign_id=campaign.pk + 1000,
            reason="too_many",
        )
    return campaign


@pytest.fixture
def reported(company, other_company):
    campaign = build_reported_campaign(company)
    # The other company: a campaign of the same shape, and opt-outs that carry our
    # campaign's id (a plain number, not a foreign key) and must never count for us.
    build_reported_campaign(other_company, name="Their sale", serial=1)
    for after in (timedelta(minutes=1), timedelta(hours=2)):
        with time_machine.travel(STARTED + after, tick=False):
            record_optout(
                company=other_company,
                address="+33699999999",
                source="api",
                campaign_id=campaign.pk,
                reason="never_signed_up",
            )
    return campaign


def _spec(html: str, chart_id: str) -> dict:
    found = re.search(rf'<script id="{chart_id}-data" type="application/json">(.*?)</script>', html)
    assert found, f"no chart {chart_id}"
    return json.loads(found.group(1))


def _table(html: str, chart_id: str) -> list[list[str]]:
    """The rows of a chart's numbers table, as text."""
    figure = re.search(rf'<figure class="chart" id="{chart_id}".*?</figure>', html, re.S).group(0)
    body = re.search(r"<tbody>(.*?)</tbody>", figure, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


HOURS = [2, 1, 0, 1] + [0] * 44 + [1]  # hours 0..47, then 48 h or later
FUNNEL = [
    ["Audience", "10", "100.0%"],
    ["Skipped: opted out", "1", "10.0%"],
    ["Sent", "6", "60.0%"],
    ["Delivered", "4", "40.0%"],
    ["Failed", "2", "20.0%"],
    ["Opted out", "5", "50.0%"],
]
REASONS = [
    ["Too many messages", "2", "40.0%"],
    ["No reason given", "1", "20.0%"],
    ["I moved abroad", "1", "20.0%"],
    ["Other", "1", "20.0%"],
]
COUNTRIES = [["NL", "80.0%", "5", "4"], ["FR", "50.0%", "2", "1"]]


def test_funnel_counts_each_step_from_message_statuses(marketer_client, reported):
    html = marketer_client.get(f"/campaigns/{reported.pk}/").content.decode()
    spec = _spec(html, "funnel")
    assert spec["kind"] == "hbar"
    assert spec["labels"] == [row[0] for row in FUNNEL]
    assert [s["values"] for s in spec["series"]] == [[10, 1, 6, 4, 2, 5]]
    assert _table(html, "funnel") == FUNNEL


def test_optouts_per_hour_after_the_send(marketer_client, reported):
    html = marketer_client.get(f"/campaigns/{reported.pk}/").content.decode()
    spec = _spec(html, "optout-hours")
    assert spec["labels"] == [f"{h} h" for h in range(48)] + ["48 h or later"]
    assert spec["series"][0]["values"] == HOURS
    rows = _table(html, "optout-hours")
    assert rows[:4] == [["0 h", "2"], ["1 h", "1"], ["2 h", "0"], ["3 h", "1"]]
    assert rows[-1] == ["48 h or later", "1"]


def test_hours_end_at_the_last_optout(marketer_client, company):
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT, started_at=STARTED)
    for after in (timedelta(minutes=30), timedelta(hours=2, minutes=1)):
        with time_machine.travel(STARTED + after, tick=False):
            record_optout(
                company=company,
                address=f"+3161{int(after.total_seconds()):07d}",
                source="sms_keyword",
                campaign_id=campaign.pk,
            )
    spec = _spec(marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode(), "optout-hours")
    assert spec["labels"] == ["0 h", "1 h", "2 h"]
    assert spec["series"][0]["values"] == [1, 0, 1]


def test_reasons_share_counts_the_companys_own(marketer_client, reported):
    html = marketer_client.get(f"/campaigns/{reported.pk}/").content.decode()
    spec = _spec(html, "reasons")
    assert spec["labels"] == [row[0] for row in REASONS]
    assert [s["values"] for s in spec["series"]] == [[2, 1, 1, 1]]
    assert _table(html, "reasons") == REASONS
    assert "I never signed up" not in html  # the other company's reason


def test_countries_rate_over_what_the_gateway_accepted(marketer_client, reported):
    html = marketer_client.get(f"/campaigns/{reported.pk}/").content.decode()
    spec = _spec(html, "countries")
    assert spec["labels"] == ["NL", "FR"]
    assert [s["values"] for s in spec["series"]] == [[80.0, 50.0]]
    assert _table(html, "countries") == COUNTRIES


def test_each_chart_downloads_as_csv(marketer_client, reported):
    url = f"/campaigns/{reported.pk}/"
    response = marketer_client.get(url, {"csv": "funnel"})
    assert f'filename="campaign-{reported.pk}-funnel.csv"' in response["Content-Disposition"]
    assert _csv(response) == [
        ["Step", "Messages", "% of audience"],
        *([label, count, pct.removesuffix("%")] for label, count, pct in FUNNEL),
    ]
    hours = _csv(marketer_client.get(url, {"csv": "optout-hours"}))
    assert hours[0] == ["Hours since sending started", "Opt-outs"]
    assert [int(n) for _, n in hours[1:]] == HOURS
    assert _csv(marketer_client.get(url, {"csv": "countries"})) == [
        ["Country", "Opt-out rate", "Accepted by the gateway", "Opt-outs"],
        ["NL", "80.0", "5", "4"],
        ["FR", "50.0", "2", "1"],
    ]


def test_whole_report_downloads_as_one_csv(marketer_client, reported):
    html = marketer_client.get(f"/campaigns/{reported.pk}/").content.decode()
    assert f'href="/campaigns/{reported.pk}/?csv=report"' in html
    response = marketer_client.get(f"/campaigns/{reported.pk}/", {"csv": "report"})
    assert f'filename="campaign-{reported.pk}-report.csv"' in response["Content-Disposition"]
    rows = _csv(response)
    sections = [rows[0]] + [rows[i + 1] for i, row in enumerate(rows) if row == []]
    assert sections == [
        ["From audience to opt-out"],
        ["Opt-outs per hour after the send"],
        ["Reasons given"],
        ["Opt-out rate per country"],
    ]
    start = rows.index(["Reasons given"])
    assert rows[start + 1 : start + 6] == [
        ["Reason", "Opt-outs", "Share"],
        *([label, count, share.removesuffix("%")] for label, count, share in REASONS),
    ]
    assert rows[-2:] == [["NL", "80.0", "5", "4"], ["FR", "50.0", "2", "1"]]


def test_csv_escapes_what_a_spreadsheet_would_run(marketer_client, company):
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT, started_at=STARTED)
    with time_machine.travel(STARTED + timedelta(minutes=1), tick=False):
        record_optout(
            company=company,
            address="+31612345678",
            source="api",
            campaign_id=campaign.pk,
            reason='=HYPERLINK("https://evil.example","x")',
        )
    for chart in ("reasons", "report"):
        rows = _csv(marketer_client.get(f"/campaigns/{campaign.pk}/", {"csv": chart}))
        assert ['\'=HYPERLINK("https://evil.example","x")', "1", "100.0"] in rows


def test_other_company_gets_404_for_the_report(outsider_client, reported):
    for query in ({}, {"csv": "report"}, {"csv": "funnel"}):
        assert outsider_client.get(f"/campaigns/{reported.pk}/", query).status_code == 404


def test_other_company_sees_only_its_own_report(outsider_client, other_company, reported):
    theirs = Campaign.objects.get(company=other_company)
    html = outsider_client.get(f"/campaigns/{theirs.pk}/").content.decode()
    # Their own campaign has the same shape; the two opt-outs they attributed to our
    # campaign's id are ours to ignore and not theirs to gain.
    assert _table(html, "funnel") == FUNNEL
    assert _table(html, "reasons") == REASONS


def test_unknown_csv_is_a_404(marketer_client, reported):
    response = marketer_client.get(f"/campaigns/{reported.pk}/", {"csv": "nope"})
    assert response.status_code == 404


def test_draft_has_no_report(marketer_client, company):
    draft = CampaignFactory(company=company)
    response = marketer_client.get(f"/campaigns/{draft.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report"' not in html and "chart.umd.min.js" not in html
    assert marketer_client.get(f"/campaigns/{draft.pk}/", {"csv": "report"}).status_code == 404


def test_progress_poll_renders_no_report(marketer_client, reported):
    Campaign.objects.filter(pk=reported.pk).update(status=Campaign.Status.SENDING)
    response = marketer_client.get(
        f"/campaigns/{reported.pk}/", {"shown": "sending"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="progress"' in html
    assert 'id="report"' not in html and "chart" not in html


def test_email_campaign_has_no_country_chart(marketer_client, company):
    campaign = CampaignFactory(
        company=company, channel=Channel.EMAIL, status=Campaign.Status.SENT, started_at=STARTED
    )
    html = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="funnel"' in html and 'id="countries"' not in html


def test_countries_past_ten_share_one_row(marketer_client, company):
    campaign = CampaignFactory(company=company, status=Campaign.Status.SENT, started_at=STARTED)
    codes = ["NL", "FR", "DE", "BE", "ES", "IT", "PT", "AT", "PL", "SE", "DK", ""]
    SentTally.objects.bulk_create(
        SentTally(
            company=company,
            campaign=campaign,
            channel=Channel.SMS,
            hour=STARTED.replace(minute=0),
            country=code,
            sent=200 - 10 * i,
        )
        for i, code in enumerate(codes)
    )
    html = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    rows = _table(html, "countries")
    assert [row[0] for row in rows] == [*codes[:9], "Other countries"]
    # SE, DK and the unknown country: 110 + 100 + 90 accepted, no opt-outs.
    assert rows[-1] == ["Other countries", "0.0%", "300", "0"]
    assert rows[0] == ["NL", "0.0%", "200", "0"]
