"""A marketer types or pastes the addresses of people who asked to hear no more."""

import re
from html import unescape

import pytest

from addressbook.models import AuditEvent
from optout.models import ConsentEvent, Source, Suppression
from optout.services import record_optout
from tests.factories import ContactFactory

PASTED = """06 12 34 56 78
+31 6 1234 5678
+31 6 1111 1111
not a number

12345
Eva@Example.NL
"""


@pytest.fixture
def before(company):
    return record_optout(company=company, address="+31611111111", source=Source.LANDING_PAGE)


def outcomes(response) -> list[tuple[str, str]]:
    html = response.content.decode()
    rows = re.findall(r'<tr data-outcome="(\w+)">(.*?)</tr>', html, re.S)
    return [(name, unescape(re.sub(r"<[^>]+>", " ", cells)).split()[-1]) for name, cells in rows]


def counts(response) -> dict[str, str]:
    return dict(re.findall(r'<dd data-count="(\w+)">(\d+)</dd>', response.content.decode()))


def test_each_line_is_added_once_with_a_summary(marketer_client, marketer, company, before):
    response = marketer_client.post("/opt-outs/add/", {"addresses": PASTED})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert counts(response) == {"added": "2", "already_suppressed": "1", "duplicate": "1",
                                "invalid": "2"}  # fmt: skip
    assert [name for name, _ in outcomes(response)] == [
        "added", "duplicate", "already_suppressed", "invalid", "invalid", "added",
    ]  # fmt: skip
    assert "Rejected: “not a number” is not a phone number." in html
    assert "Rejected: “12345” is not a valid NL phone number" in html

    added = ConsentEvent.objects.filter(company=company, source=Source.DASHBOARD)
    assert sorted(added.values_list("address", flat=True)) == ["+31612345678", "Eva@example.nl"]
    # The address already on the list keeps the opt-out that put it there.
    assert Suppression.objects.get(company=company, address="+31611111111").event == before
    audit = AuditEvent.objects.filter(company=company, action=AuditEvent.Action.OPTOUT_RECORDED)
    assert sorted(audit.values_list("target", flat=True)) == ["+31612345678", "Eva@example.nl"]
    assert set(audit.values_list("actor", flat=True)) == {marketer.pk}


def test_adding_the_same_list_again_adds_nothing(marketer_client, company, before):
    marketer_client.post("/opt-outs/add/", {"addresses": PASTED})
    again = marketer_client.post("/opt-outs/add/", {"addresses": PASTED})
    assert counts(again) == {"added": "0", "already_suppressed": "4", "duplicate": "0",
                             "invalid": "2"}  # fmt: skip
    assert ConsentEvent.objects.filter(company=company, source=Source.DASHBOARD).count() == 2


def test_a_contacts_other_address_is_suppressed_with_it(marketer_client, company):
    ContactFactory(company=company, phone="+31622222222", email="eva@example.nl")
    response = marketer_client.post(
        "/opt-outs/add/", {"addresses": "06 22 22 22 22\neva@example.nl"}
    )
    assert [name for name, _ in outcomes(response)] == ["added", "already_suppressed"]
    assert set(Suppression.objects.filter(company=company).values_list("address", flat=True)) == {
        "+31622222222",
        "eva@example.nl",
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "This field is required."),
        ("\n \n", "This field is required."),
        ("\n".join(f"+316{n:08d}" for n in range(1001)), "That is 1001 lines; up to 1000"),
    ],
)
def test_nothing_or_too_much_is_400_saying_why(marketer_client, company, text, message):
    response = marketer_client.post("/opt-outs/add/", {"addresses": text})
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not ConsentEvent.objects.exists()


def test_only_the_marketers_company_is_touched(outsider_client, company, other_company, before):
    response = outsider_client.post("/opt-outs/add/", {"addresses": "+31611111111"})
    assert counts(response)["added"] == "1"
    assert ConsentEvent.objects.filter(company=company).count() == 1
    assert Suppression.objects.get(company=other_company).event.source == Source.DASHBOARD


def test_the_form_page(marketer_client):
    page = marketer_client.get("/opt-outs/add/").content.decode()
    assert '<textarea name="addresses"' in page and "Numbers without a country code" in page
