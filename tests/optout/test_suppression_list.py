"""The Opt-outs page: every suppressed address, searched, filtered, paged and exported."""

import re
from html import unescape

import pytest
import time_machine

from optout import suppression_views
from optout.models import Source
from optout.services import record_optout
from tests.factories import CampaignFactory

# Amsterdam is UTC+1 in March: the second opt-out is on 6 March there, 5 March in UTC.
HEADER = ["Address", "Since", "Channel", "Source", "Campaign", "Country", "Reason"]
SPRING = ["+31612345678", "1 Mar 2026 11:00", "SMS", "Landing page", "Spring sale", "NL",
          "Too many messages: “Every day, really?”"]  # fmt: skip
NEWSLETTER = ["jan@example.com", "6 Mar 2026 00:30", "Email", "Email link", "Newsletter", "—",
              "—"]  # fmt: skip
FRANCE = ["+33612345678", "10 Mar 2026 09:00", "SMS", "SMS keyword reply", "Spring sale", "FR",
          "—"]  # fmt: skip
FORMULA = ["=1+2@example.com", "12 Mar 2026 13:15", "Email", "Dashboard", "—", "—",
           "Other: “=HYPERLINK(\"http://x\")”"]  # fmt: skip


@pytest.fixture
def campaigns(company):
    return {
        "spring": CampaignFactory(company=company, name="Spring sale"),
        "news": CampaignFactory(company=company, name="Newsletter", channel="email"),
    }


@pytest.fixture
def listed(company, other_company, campaigns):
    """Four opt-outs of the company, and the same number at another company."""
    spring, news = campaigns["spring"].pk, campaigns["news"].pk
    moments = [
        ("2026-03-01 10:00Z", dict(address="+31612345678", source=Source.LANDING_PAGE,
                                   campaign_id=spring, reason="too_many",
                                   reason_text="Every day, really?")),
        ("2026-03-05 23:30Z", dict(address="jan@example.com", source=Source.EMAIL_LINK,
                                   campaign_id=news)),
        ("2026-03-10 08:00Z", dict(address="+33612345678", source=Source.SMS_KEYWORD,
                                   campaign_id=spring)),
        ("2026-03-12 12:15Z", dict(address="=1+2@example.com", source=Source.DASHBOARD,
                                   reason="other", reason_text='=HYPERLINK("http://x")')),
    ]  # fmt: skip
    for moment, optout in moments:
        with time_machine.travel(moment, tick=False):
            record_optout(company=company, **optout)
    other = CampaignFactory(company=other_company, name="Globex summer")
    record_optout(
        company=other_company, address="+31612345678", source=Source.API, campaign_id=other.pk
    )
    record_optout(company=other_company, address="paul@globex.example", source=Source.API)


def table(response) -> list[list[str]]:
    html = response.content.decode()
    body = re.search(r'<table id="suppressions">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = [row for row in re.findall(r"<tr>(.*?)</tr>", body, re.S) if 'class="empty"' not in row]
    cells = (re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows)
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in row] for row in cells]


def test_every_column_of_every_suppressed_address(marketer_client, listed, campaigns):
    response = marketer_client.get("/opt-outs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"<th(?: [^>]*)?>(.*?)</th>", html)[:7] == HEADER
    assert table(response) == [FORMULA, FRANCE, NEWSLETTER, SPRING]
    assert '<span data-count="total">4</span> addresses' in html
    assert f'<a href="/campaigns/{campaigns["spring"].pk}/">Spring sale</a>' in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("source=landing_page", [SPRING]),
        ("channel=email", [FORMULA, NEWSLETTER]),
        ("channel=sms", [FRANCE, SPRING]),
        ("country=fr", [FRANCE]),
        ("since=2026-03-06&until=2026-03-06", [NEWSLETTER]),
        ("until=2026-03-05", [SPRING]),
        ("since=2026-03-10", [FORMULA, FRANCE]),
        ("channel=sms&source=sms_keyword", [FRANCE]),
    ],
)
def test_filters(marketer_client, listed, query, expected):
    assert table(marketer_client.get(f"/opt-outs/?{query}")) == expected


def test_campaign_filter(marketer_client, listed, campaigns):
    response = marketer_client.get(f"/opt-outs/?campaign={campaigns['spring'].pk}")
    assert table(response) == [FRANCE, SPRING]


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("06 12 34 56 78", [SPRING]),
        ("+31 6 1234 5678", [SPRING]),
        ("0031612345678", [SPRING]),
        ("+33 6 12 34 56 78", [FRANCE]),
        ("jan@EXAMPLE.com", [NEWSLETTER]),
        ("example.com", [FORMULA, NEWSLETTER]),
        ("paul@globex.example", []),
    ],
)
def test_search_by_number_in_any_format_or_email(marketer_client, listed, typed, expected):
    assert table(marketer_client.get("/opt-outs/", {"q": typed})) == expected


def test_htmx_search_returns_only_the_results(marketer_client, listed):
    response = marketer_client.get(
        "/opt-outs/", {"q": "06 12 34 56 78"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert table(response) == [SPRING]


def test_pagination_keeps_the_filters(marketer_client, listed, monkeypatch):
    monkeypatch.setattr(suppression_views, "PER_PAGE", 1)
    first = marketer_client.get("/opt-outs/?channel=sms")
    assert table(first) == [FRANCE]
    html = first.content.decode()
    assert 'href="?channel=sms&amp;page=2"' in html and "← Previous" not in html
    second = marketer_client.get("/opt-outs/?channel=sms&page=2")
    assert table(second) == [SPRING]
    html = second.content.decode()
    assert 'href="?channel=sms&amp;page=1"' in html and "Next →" not in html
    assert "Page 2" in html


@pytest.mark.parametrize(
    "query, message",
    [
        ("country=XX", "“XX” is not a country code such as NL or FR."),
        ("since=2026-03-09&until=2026-03-01", "The start date is after the end date."),
        ("since=yesterday", "Enter a valid date."),
        ("campaign=999999", "Select a valid choice."),
        ("source=carrier_pigeon", "Select a valid choice."),
    ],
)
def test_bad_filters_are_400_saying_why(marketer_client, listed, query, message):
    response = marketer_client.get(f"/opt-outs/?{query}")
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert marketer_client.get(f"/opt-outs/export.csv?{query}").status_code == 400


def test_a_page_number_that_is_no_number_shows_the_first_page(marketer_client, listed):
    response = marketer_client.get("/opt-outs/?page=abc")
    assert response.status_code == 200 and len(table(response)) == 4


def test_another_companys_suppressions_never_show(outsider_client, listed, campaigns):
    response = outsider_client.get("/opt-outs/")
    assert [row[0] for row in table(response)] == ["paul@globex.example", "+31612345678"]
    assert table(response)[1][3:5] == ["API", "Globex summer"]
    nothing = outsider_client.get("/opt-outs/", {"q": "jan@example.com"})
    assert table(nothing) == [] and "No opt-out matches." in nothing.content.decode()
    assert outsider_client.get(f"/opt-outs/?campaign={campaigns['spring'].pk}").status_code == 400
    csv = b"".join(outsider_client.get("/opt-outs/export.csv").streaming_content).decode()
    assert "jan@example.com" not in csv and "Spring sale" not in csv
    assert len(csv.strip().splitlines()) == 3


def export(client, query: str = "") -> list[str]:
    response = client.get(f"/opt-outs/export.csv?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="opt-outs-')
    return b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff").splitlines()


def test_csv_export_of_the_whole_list_with_formulas_escaped(marketer_client, listed):
    assert export(marketer_client) == [
        "Address,Channel,Since,Source,Campaign,Country,Reason,Reason text",
        '\'=1+2@example.com,Email,2026-03-12 13:15,Dashboard,,,Other,"\'=HYPERLINK(""http://x"")"',
        "'+33612345678,SMS,2026-03-10 09:00,SMS keyword reply,Spring sale,FR,,",
        "jan@example.com,Email,2026-03-06 00:30,Email link,Newsletter,,,",
        "'+31612345678,SMS,2026-03-01 11:00,Landing page,Spring sale,NL,Too many messages,"
        '"Every day, really?"',
    ]


def test_csv_export_of_the_filtered_list(marketer_client, listed):
    lines = export(marketer_client, "channel=sms&since=2026-03-02&page=3")
    assert lines[1:] == ["'+33612345678,SMS,2026-03-10 09:00,SMS keyword reply,Spring sale,FR,,"]


def test_a_viewer_reads_but_cannot_add(client, viewer, listed):
    client.force_login(viewer)
    page = client.get("/opt-outs/").content.decode()
    assert "Add opt-outs" not in page and "Upload a list" not in page
    assert client.post("/opt-outs/add/", {"addresses": "+31611111111"}).status_code == 403
