"""The home page: this week against last week at the same moment, in the company's zone,
from a fixture whose every number is counted by hand (home_data.py)."""

import csv
import io
import json
import re

import pytest
import time_machine

from tests.factories import CompanyFactory, ContactFactory, MembershipFactory

from .home_data import NOW, alarm_paused, build


@pytest.fixture
def week(company, other_company):
    return build(company, other_company)


@pytest.fixture
def home(marketer_client, week):
    with time_machine.travel(NOW, tick=False):
        yield lambda query="": marketer_client.get(f"/{query}")


def _text(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<[^>]+{attribute}="{value}"[^>]*>(.*?)</', html, re.S)
    assert match, f"{attribute}={value} not on the page"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_this_week_against_last_week_at_the_same_moment(home):
    page = home().content.decode()
    assert _text(page, "data-figure", "sent") == "1,000"
    assert _text(page, "data-trend", "sent") == "↑ +100% vs last week"  # 1,000 vs 500
    assert _text(page, "data-figure", "optouts") == "5"
    assert _text(page, "data-trend", "optouts") == "↑ +150% vs last week"  # 5 vs 2
    assert _text(page, "data-figure", "rate") == "0.50%"  # 5 of 1,000
    assert _text(page, "data-trend", "rate") == "↑ +0.1 pp vs last week"  # 0.40% last week
    assert "Mon 30 Nov – Sun 6 Dec (Europe/Amsterdam)" in page


def test_the_suppression_list_size_is_the_company_s_own(home):
    page = home().content.decode()
    assert _text(page, "data-figure", "suppressed") == "11"


def _chart(page: str, chart_id: str) -> dict:
    match = re.search(rf'<script id="{chart_id}-data" type="application/json">(.*?)</script>', page)
    assert match, chart_id
    return json.loads(match.group(1))


def test_the_daily_charts_split_the_week_at_midnight_in_the_company_s_zone(home):
    page = home().content.decode()
    days = ["Mon 30", "Tue 1", "Wed 2", "Thu 3", "Fri 4", "Sat 5", "Sun 6"]
    sent = _chart(page, "week-sent")
    assert sent["labels"] == days
    assert sent["series"][0]["values"] == [200, 300, 500, 0, 0, 0, 0]
    optouts = _chart(page, "week-optouts")
    assert optouts["series"][0]["values"] == [1, 2, 2, 0, 0, 0, 0]
    # The table beside the chart carries the rate too: 1/200, 2/300, 2/500.
    assert '<td>Tue 1</td><td class="num">2</td><td class="num">0.67%</td>' in page


def test_the_charts_csv(home):
    response = home("?csv=week-optouts")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="week-optouts-2026-11-30.csv"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[:4] == [
        ["Day", "Opt-outs", "Opt-out rate"],
        ["Mon 30", "1", "0.50"],
        ["Tue 1", "2", "0.67"],
        ["Wed 2", "2", "0.40"],
    ]
    assert rows[4:] == [[day, "0", ""] for day in ["Thu 3", "Fri 4", "Sat 5", "Sun 6"]]
    sent = b"".join(home("?csv=week-sent").streaming_content).decode().lstrip("\ufeff")
    assert list(csv.reader(io.StringIO(sent)))[1:4] == [
        ["Mon 30", "200"],
        ["Tue 1", "300"],
        ["Wed 2", "500"],
    ]


def test_the_latest_ten_optouts_with_reason_source_and_campaign(home, week):
    winter, spring, _ = week
    page = home().content.decode()
    rows = re.findall(r"<tr data-optout=\"\d+\">(.*?)</tr>", page, re.S)
    assert len(rows) == 10
    cells = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]
    assert [c[1] for c in cells] == [f"+316900000{n:02d}" for n in range(11, 1, -1)]
    assert cells[0] == [
        "Wed 2 Dec 09:30",
        "+31690000011",
        "Landing page",
        "Not relevant to me",
        "Spring sale",
    ]
    assert cells[1][2:] == ["Import", "—", "—"]
    assert cells[3][3:] == ["“Moved away”", "—"]
    assert cells[4][3:] == ["Too many messages", "Winter beans"]
    assert f'<a href="/campaigns/{spring.pk}/">Spring sale</a>' in rows[0]
    assert "+31690000001" not in page  # the eleventh


def test_campaigns_sending_now_and_paused_by_the_alarm(home, week, company):
    winter, spring, theirs = week
    alarmed = alarm_paused(company)

    page = home().content.decode()
    sending = re.search(rf'data-sending="{spring.pk}">(.*?)</li>', page, re.S).group(1)
    assert "Spring sale" in sending
    assert 'value="25"' in sending and "25% of the audience done" in sending
    assert "<span data-sending-sent>500</span> sent" in sending
    notice = re.search(rf'data-alarm="{alarmed.pk}">(.*?)</section>', page, re.S).group(1)
    assert "Black Friday" in notice
    assert "5 opt-outs from 100 messages sent (5.0%), over your 2% limit." in notice
    assert f'action="/campaigns/{alarmed.pk}/resume/"' in notice
    assert "Globex deals" not in page


def test_nothing_of_another_company_shows(outsider_client, week):
    with time_machine.travel(NOW, tick=False):
        page = outsider_client.get("/").content.decode()
    assert _text(page, "data-figure", "sent") == "9,000"
    assert _text(page, "data-figure", "optouts") == "2"
    assert _text(page, "data-figure", "suppressed") == "2"
    assert "Winter beans" not in page and "Spring sale" not in page
    assert "+3169000" not in page
    assert "Globex deals" in page


def test_a_new_company_is_shown_where_to_start(db, client):
    newcomer = MembershipFactory(company=CompanyFactory(name="Fresh Start")).user
    client.force_login(newcomer)
    page = client.get("/").content.decode()
    assert "Welcome to Fresh Start" in page
    assert 'href="/imports/new/"' in page
    assert 'href="/campaigns/new/"' in page
    assert "<canvas" not in page


def test_a_company_with_contacts_only_sees_its_week(db, client):
    company = CompanyFactory(name="Just Imported")
    ContactFactory(company=company)
    member = MembershipFactory(company=company).user
    client.force_login(member)
    page = client.get("/").content.decode()
    assert _text(page, "data-figure", "sent") == "0"
    assert _text(page, "data-figure", "rate") == "—"
    assert "No campaign is sending right now." in page
    assert "Nobody has opted out yet." in page


def test_logged_out_visitors_go_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
