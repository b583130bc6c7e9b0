"""The insights page: every number a marketer reads, against the hand-counted month."""

import pytest
import time_machine
from django.urls import reverse

from .insights_data import NOW, build, event, utc
from .page import chart_tables, csv_rows, headline

URL = reverse("insights:insights")
DAYS_OF_NOVEMBER = [f"2026-11-{d:02}" for d in range(1, 31)]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def month(company, other_company):
    return build(company, other_company)


def column(table: list[list[str]], name: str) -> dict[str, str]:
    """{row label: the cell of column ``name``}."""
    index = table[0].index(name)
    return {row[0]: row[index] for row in table[1:]}


def test_headline_counts_the_period_and_compares_with_the_one_before(marketer_client, month):
    figures = headline(marketer_client.get(URL))
    # 11 opt-outs in November (the opt-in and the other company's left out), 8 of them
    # attributed; 1,000 + 500 + 100 sent. October: 2 opt-outs (1 attributed), 400 sent.
    assert figures["optouts"] == "11"
    assert figures["sent"] == "1,600"
    assert figures["rate"] == "0.5%"
    assert figures["change-optouts"] == "▲ +450.0% vs before"
    assert figures["change-sent"] == "▲ +300.0% vs before"
    assert figures["change-rate"] == "▲ +0.25 points vs before"


def test_optouts_over_time_are_daily_in_the_company_time_zone(marketer_client, month):
    table = chart_tables(marketer_client.get(URL))["optouts-over-time"]
    assert table[0] == [
        "Day",
        "SMS keyword reply",
        "Landing page",
        "Email link",
        "Email one-click",
        "API",
        "Dashboard",
        "Import",
    ]
    assert [row[0] for row in table[1:]] == DAYS_OF_NOVEMBER
    nonzero = {
        (row[0], table[0][i]): int(cell)
        for row in table[1:]
        for i, cell in enumerate(row[1:], start=1)
        if cell != "0"
    }
    assert nonzero == {
        # 31 Oct 23:30 UTC is 1 Nov in Amsterdam; 22 Nov 23:30 UTC is the 23rd.
        ("2026-11-01", "Dashboard"): 1,
        ("2026-11-05", "Import"): 1,
        ("2026-11-20", "SMS keyword reply"): 1,
        ("2026-11-20", "Landing page"): 1,
        ("2026-11-21", "Landing page"): 1,
        ("2026-11-21", "API"): 1,
        ("2026-11-23", "SMS keyword reply"): 1,
        ("2026-11-24", "API"): 1,
        ("2026-11-25", "Email one-click"): 1,
        ("2026-11-28", "Landing page"): 1,
        ("2026-11-29", "Email link"): 1,
    }


def test_a_long_range_is_weekly(marketer_client, month):
    response = marketer_client.get(
        URL, {"range": "custom", "start": "2026-09-01", "end": "2026-11-30"}
    )
    table = chart_tables(response)["optouts-over-time"]
    assert table[0][0] == "Week starting"
    labels = [row[0] for row in table[1:]]
    assert labels[0] == "2026-08-31" and labels[-1] == "2026-11-30" and len(labels) == 14
    weeks = {row[0]: dict(zip(table[0][1:], map(int, row[1:]), strict=True)) for row in table[1:]}
    assert weeks["2026-10-12"]["SMS keyword reply"] == 1
    assert weeks["2026-10-26"] == {
        **dict.fromkeys(table[0][1:], 0),
        "SMS keyword reply": 1,
        "Dashboard": 1,
    }
    assert weeks["2026-11-16"]["Landing page"] == 2 and weeks["2026-11-16"]["API"] == 1
    assert sum(sum(w.values()) for w in weeks.values()) == 13


def test_rate_per_campaign_is_worst_first_and_links_to_each(marketer_client, month):
    response = marketer_client.get(URL)
    table = chart_tables(response)["rate-by-campaign"]
    assert table == [
        ["Campaign", "Opt-out rate", "Opt-outs", "Sent"],
        ["Black Friday", "0.6%", "6", "1000"],
        ["Newsletter", "0.4%", "2", "500"],
        ["=SUM(A1)", "0%", "0", "100"],
    ]
    html = response.content.decode()
    for campaign in (month.black_friday, month.newsletter, month.quiet):
        assert f'href="{reverse("campaigns:campaign-detail", args=[campaign.pk])}"' in html
    assert "Rival sale" not in html


def test_reasons_share_counts_the_company_own_and_the_defaults(marketer_client, month):
    table = chart_tables(marketer_client.get(URL))["reasons"]
    assert table == [
        ["Reason", "Opt-outs", "Share"],
        ["No reason given", "7", "63.64%"],
        ["Prices too high", "2", "18.18%"],
        ["Not relevant to me", "1", "9.09%"],
        ["Too many messages", "1", "9.09%"],
    ]


def test_time_from_send_to_optout(marketer_client, month):
    table = chart_tables(marketer_client.get(URL))["time-to-optout"]
    # 30 min; 3 h and 2 h; 23 h; 62.5 h; 4 days; 8 days. The API opt-out has no message.
    assert table == [
        ["After the message", "Opt-outs"],
        ["< 1 h", "1"],
        ["1–6 h", "2"],
        ["6–24 h", "1"],
        ["1–3 days", "1"],
        ["3–7 days", "1"],
        ["Later", "1"],
    ]


def test_by_destination_country(marketer_client, month):
    table = chart_tables(marketer_client.get(URL))["by-country"]
    assert table == [
        ["Country", "Opt-outs", "From campaigns", "Sent", "Opt-out rate"],
        ["NL", "8", "5", "900", "0.56%"],
        ["Email", "2", "2", "500", "0.4%"],
        ["BE", "1", "1", "200", "0.5%"],
    ]


def test_a_country_without_sending_has_no_rate(marketer_client, month, company):
    event(company, utc(11, 26, 10), "+4915112345678", "api", country="DE")
    table = chart_tables(marketer_client.get(URL))["by-country"]
    assert ["DE", "1", "0", "0", "—"] in table


def test_channel_sms_keeps_numbers_and_sms_sending(marketer_client, month):
    response = marketer_client.get(URL, {"channel": "sms"})
    figures = headline(response)
    # 9 numbers opted out (6 attributed); 1,000 + 100 SMS sent; October the same as all.
    assert (figures["optouts"], figures["sent"], figures["rate"]) == ("9", "1,100", "0.55%")
    assert figures["change-rate"] == "▲ +0.3 points vs before"
    tables = chart_tables(response)
    assert [row[0] for row in tables["rate-by-campaign"][1:]] == ["Black Friday", "=SUM(A1)"]
    assert "Email" not in column(tables["by-country"], "Opt-outs")
    assert "Email link" not in tables["optouts-over-time"][0]


def test_channel_email_keeps_addresses_and_email_sending(marketer_client, month):
    response = marketer_client.get(URL, {"channel": "email"})
    figures = headline(response)
    assert (figures["optouts"], figures["sent"], figures["rate"]) == ("2", "500", "0.4%")
    assert figures["change-optouts"] == "nothing to compare"
    tables = chart_tables(response)
    assert tables["optouts-over-time"][0] == ["Day", "Email link", "Email one-click"]
    assert column(tables["time-to-optout"], "Opt-outs") == {
        "< 1 h": "0",
        "1–6 h": "1",
        "6–24 h": "0",
        "1–3 days": "0",
        "3–7 days": "1",
        "Later": "0",
    }


def test_last_7_days(marketer_client, month):
    response = marketer_client.get(URL, {"range": "7"})
    figures = headline(response)
    # 24–30 Nov: the API opt-out, anna, the 8-day one and bob; 500 + 100 sent. The week
    # before (17–23 Nov): 5 opt-outs, all attributed, 1,000 sent: the same 0.5%.
    assert (figures["optouts"], figures["sent"], figures["rate"]) == ("4", "600", "0.5%")
    assert figures["change-optouts"] == "▼ -20.0% vs before"
    assert figures["change-rate"] == "same as before"
    tables = chart_tables(response)
    assert [row[0] for row in tables["optouts-over-time"][1:]] == DAYS_OF_NOVEMBER[23:]
    assert tables["rate-by-campaign"][1:] == [
        ["Newsletter", "0.4%", "2", "500"],
        ["=SUM(A1)", "0%", "0", "100"],
    ]


def test_custom_dates_are_local_days(marketer_client, month):
    response = marketer_client.get(
        URL, {"range": "custom", "start": "2026-11-01", "end": "2026-11-01"}
    )
    assert headline(response)["optouts"] == "1"  # 31 Oct 23:30 UTC is 1 Nov, 00:30 here
    response = marketer_client.get(URL, {"start": "2026-10-31", "end": "2026-10-31"})
    assert headline(response)["optouts"] == "1"  # dates alone mean those dates
    assert 'value="2026-10-31"' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"range": "custom", "start": "2026-11-10", "end": "2026-11-01"},
            "The first day comes after the last.",
        ),
        ({"range": "custom", "start": "2020-01-01", "end": "2026-11-01"}, "at most three years"),
        ({"range": "custom", "start": "yesterday"}, "Enter a valid date."),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "from the year 2000 to next year"),
        ({"start": "9999-12-30", "end": "9999-12-31"}, "from the year 2000 to next year"),
        ({"range": "365"}, "Select a valid choice."),
        ({"channel": "fax"}, "Select a valid choice."),
    ],
)
def test_bad_filters_say_why(marketer_client, month, query, message):
    response = marketer_client.get(URL, query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_unknown_csv_is_404(marketer_client, month):
    assert marketer_client.get(URL, {"csv": "nope"}).status_code == 404


def test_each_chart_downloads_as_its_table(marketer_client, month):
    response = marketer_client.get(URL)
    tables = chart_tables(response)
    assert set(tables) == {
        "optouts-over-time",
        "rate-by-campaign",
        "reasons",
        "time-to-optout",
        "by-country",
    }
    for chart_id, table in tables.items():
        download = marketer_client.get(URL, {"csv": chart_id})
        assert download["Content-Type"] == "text/csv; charset=utf-8"
        assert f'filename="{chart_id}-2026-11-01-2026-11-30.csv"' in download["Content-Disposition"]
        rows = csv_rows(download)
        if chart_id == "rate-by-campaign":
            assert rows == [
                ["Campaign", "Opt-out rate", "Opt-outs", "Sent"],
                ["Black Friday", "0.6", "6", "1000"],
                ["Newsletter", "0.4", "2", "500"],
                ["'=SUM(A1)", "0", "0", "100"],  # a formula is escaped
            ]
        elif chart_id == "by-country":
            assert rows[1] == ["NL", "8", "5", "900", "0.56"]
        else:
            assert rows == [[cell.removesuffix("%") for cell in row] for row in table]


def test_csv_follows_the_filters(marketer_client, month):
    rows = csv_rows(marketer_client.get(URL, {"channel": "email", "csv": "reasons"}))
    assert rows == [
        ["Reason", "Opt-outs", "Share"],
        ["No reason given", "1", "50.0"],
        ["Not relevant to me", "1", "50.0"],
    ]


def test_free_text_answers_are_searchable(marketer_client, month):
    html = marketer_client.get(URL).content.decode()
    for text in (
        "Every day a message!",
        "Too expensive",
        "Not for me, thanks",
        "Prices went up too",
    ):
        assert text in html
    assert "Globex" not in html
    html = marketer_client.get(URL, {"q": "TOO"}).content.decode()
    assert "Too expensive" in html and "Prices went up too" in html
    assert "Every day a message!" not in html and "Not for me" not in html
    assert "2 answers" in html
    # The answer is shown with its campaign and the company's clock: 21 Nov 08:00 UTC.
    assert "21 Nov 2026 09:00" in html


def test_answers_are_paginated_keeping_the_filters(marketer_client, month, company):
    for n in range(23):
        event(
            company,
            utc(11, 27, 10, n),
            f"+3161100{n:04}",
            "landing_page",
            text=f"Answer number {n:02}",
        )
    response = marketer_client.get(URL, {"range": "7", "q": "answer number"})
    html = response.content.decode()
    assert "23 answers" in html
    assert html.count("Answer number") == 20
    assert "?range=7&amp;q=answer+number&amp;page=2#answers" in html
    html = marketer_client.get(
        URL, {"range": "7", "q": "answer number", "page": 2}
    ).content.decode()
    assert html.count("Answer number") == 3
    assert "Answer number 00" in html  # oldest last


def test_other_company_sees_only_its_own(outsider_client, month):
    response = outsider_client.get(URL)
    figures = headline(response)
    assert (figures["optouts"], figures["sent"], figures["rate"]) == ("6", "5,000", "0.12%")
    tables = chart_tables(response)
    assert tables["rate-by-campaign"][1:] == [["Rival sale", "0.12%", "6", "5000"]]
    assert column(tables["by-country"], "Opt-outs") == {"DE": "5", "NL": "1"}
    html = response.content.decode()
    for own in ("Black Friday", "Newsletter", "Too expensive", "Prices too high"):
        assert own not in html
    # The other company's links lead nowhere for it.
    detail = reverse("campaigns:campaign-detail", args=[month.black_friday.pk])
    assert outsider_client.get(detail).status_code == 404


def test_needs_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]
