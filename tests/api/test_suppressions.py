"""The suppression list, opting out, the check before each message, and refused removal."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Message
from optout.models import ConsentEvent, Source
from optout.services import record_optin, record_optout
from tests.factories import CampaignFactory, ContactFactory

LIST = reverse("api:suppression-list")
CHECK = reverse("api:suppression-check")


def detail(ref: str) -> str:
    return reverse("api:suppression-detail", kwargs={"ref": ref})


def optout(company, address: str, **fields):
    return record_optout(company=company, address=address, source=Source.LANDING_PAGE, **fields)


# --- opting out --------------------------------------------------------------------------
def test_optout_suppresses_the_address_and_the_persons_other_address(api, company):
    ContactFactory(company=company, phone="+31612345678", email="anna@example.com")

    answer = api.post(LIST, {"address": "06 12345678", "reason": "too_many"}, format="json")

    assert answer.status_code == 201
    body = answer.json()
    assert body["address"] == "+31612345678"
    assert body["channel"] == "sms"
    assert (body["source"], body["reason"]) == ("api", "too_many")
    check = api.get(CHECK, {"email": "anna@example.com"}).json()
    assert check["may_send_marketing"] is False
    # The email has an event of its own, which names the opt-out of the number.
    assert check["email"]["source"] == "linked"
    linked = ConsentEvent.objects.get(pk=check["email"]["event_id"])
    assert (linked.address, linked.linked_event_id) == ("anna@example.com", body["event_id"])


def test_repeat_optout_answers_200_and_keeps_one_suppression(api, company):
    first = api.post(LIST, {"address": "+31612345678"}, format="json")
    again = api.post(LIST, {"address": "+31 6 1234 5678", "reason": "other"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["event_id"] != first.json()["event_id"]
    rows = api.get(LIST).json()["results"]
    assert [(r["address"], r["reason"]) for r in rows] == [("+31612345678", "other")]


def test_optout_of_an_email_address(api):
    answer = api.post(LIST, {"address": " Anna@Example.COM "}, format="json")

    assert answer.status_code == 201
    assert (answer.json()["address"], answer.json()["channel"]) == ("Anna@example.com", "email")


def test_retried_optout_with_the_same_idempotency_key_records_one_event(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-unsubscribe-77"}
    first = api.post(LIST, {"address": "+31612345678"}, format="json", **headers)
    retry = api.post(LIST, {"address": "+31612345678"}, format="json", **headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        events = api.get(reverse("api:consent-event-list")).json()["results"]
    assert [e["id"] for e in events] == [first.json()["event_id"]]


def test_optout_names_the_campaign_it_answered(api, company):
    campaign = CampaignFactory(company=company)
    contact = ContactFactory(company=company, phone="+31612345678")
    sent_at = timezone.now() - timedelta(hours=3)
    for to, when in (("+31612345678", sent_at), ("+31699999999", sent_at - timedelta(hours=1))):
        Message.objects.create(
            company=company,
            campaign=campaign,
            contact=contact if to == contact.phone else None,
            to=to,
            status=Message.Status.SENT,
            sent_at=when,
        )

    answer = api.post(LIST, {"address": "+31612345678", "campaign_id": campaign.pk}, format="json")

    assert answer.status_code == 201
    assert answer.json()["campaign_id"] == campaign.pk
    # When the campaign wrote to this number, for the time from send to opt-out.
    assert ConsentEvent.objects.get().message_sent_at == sent_at
    listed = api.get(LIST, {"campaign": campaign.pk}).json()["results"]
    assert [r["address"] for r in listed] == ["+31612345678"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "address"),
        ({"address": ""}, "address"),
        ({"address": "06 1234"}, "address"),
        ({"address": "not an address"}, "address"),
        ({"address": "x" * 10_000}, "address"),
        ({"address": ["+31612345678"]}, "address"),
        ({"address": 31612345678}, "address"),
        ({"address": "+31612345678", "reason": "bored"}, "reason"),
        ({"address": "+31612345678", "reason_text": "x" * 5000}, "reason_text"),
        ({"address": "+31612345678", "campaign_id": "seven"}, "campaign_id"),
        ({"address": "+31612345678", "campaign_id": 2**70}, "campaign_id"),
        ({"address": "+31612345678", "campaign_id": 999999}, "campaign_id"),
    ],
)
def test_bad_optout_is_400_naming_the_field(api, body, field):
    answer = api.post(LIST, body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]
    assert api.get(LIST).json()["results"] == []


def test_optout_with_another_companys_campaign_is_refused(api, other_company):
    campaign = CampaignFactory(company=other_company)

    answer = api.post(LIST, {"address": "+31612345678", "campaign_id": campaign.pk}, format="json")

    assert answer.status_code == 400
    assert answer.json()["error"]["fields"]["campaign_id"] == ["No such campaign in this company."]


def test_malformed_json_is_400(api):
    answer = api.post(LIST, "{not json", content_type="application/json")

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "parse_error"


def test_nul_in_the_address_is_400(api):
    answer = api.post(LIST, {"address": "+3161234\u00005678"}, format="json")

    assert answer.status_code == 400


# --- the check -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "written",
    ["+31 6 12345678", "0612345678", "0031612345678", "+31-6-1234-5678", "(06) 12 34 56 78"],
)
def test_check_reads_a_number_written_any_way(api, company, written):
    campaign = CampaignFactory(company=company)
    event = optout(company, "+31612345678", campaign_id=campaign.pk, reason="too_many")

    answer = api.get(CHECK, {"phone": written})

    assert answer.status_code == 200
    assert answer.json() == {
        "may_send_marketing": False,
        "phone": {
            "address": "+31612345678",
            "channel": "sms",
            "may_send_marketing": False,
            "since": answer.json()["phone"]["since"],
            "source": "landing_page",
            "reason": "too_many",
            "reason_text": "",
            "campaign_id": campaign.pk,
            "event_id": event.pk,
            "suppression_id": event.suppressions.get().pk,
        },
        "email": None,
    }
    assert answer.json()["phone"]["since"].startswith(str(timezone.now().year))


def test_check_of_an_address_that_may_receive_marketing(api, company):
    optout(company, "+31612345678")

    answer = api.get(CHECK, {"phone": "+31687654321", "email": "bob@example.com"}).json()

    assert answer["may_send_marketing"] is True
    assert answer["phone"]["may_send_marketing"] is True
    assert answer["phone"]["since"] is None and answer["phone"]["source"] is None
    assert answer["email"]["address"] == "bob@example.com"


def test_check_of_a_person_suppressed_on_one_of_two_addresses(api, company):
    optout(company, "bob@example.com")

    answer = api.get(CHECK, {"phone": "+31687654321", "email": "bob@example.com"}).json()

    assert answer["may_send_marketing"] is False
    assert answer["phone"]["may_send_marketing"] is True
    assert answer["email"]["may_send_marketing"] is False


def test_check_after_the_person_came_back(api, company):
    optout(company, "+31612345678")
    record_optin(company=company, address="+31612345678", source=Source.SMS_KEYWORD)

    assert api.get(CHECK, {"phone": "+31612345678"}).json()["may_send_marketing"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": "+999 1234"}, "phone"),
        ({"phone": "9" * 5000}, "phone"),
        ({"phone": "anna@example.com"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "+31612345678"}, "email"),
        ({}, "phone"),
        ({"phone": ""}, "phone"),
    ],
)
def test_check_with_a_bad_address_is_400_naming_it(api, params, field):
    answer = api.get(CHECK, params)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid"
    assert field in answer.json()["error"]["fields"]


def test_check_with_nul_is_400(api):
    assert api.get(CHECK + "?phone=%2B3161234%005678").status_code == 400


def test_check_is_one_query_and_writes_nothing(api, company):
    optout(company, "+31612345678")
    api.get(CHECK, {"phone": "+31612345678"})  # the key's last use is noted once a minute

    with CaptureQueriesContext(connection) as queries:
        answer = api.get(CHECK, {"phone": "+31612345678", "email": "anna@example.com"})

    assert answer.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert all(s.lstrip().upper().startswith("SELECT") for s in sql), sql
    touching = [s for s in sql if "optout_suppression" in s]
    assert len(touching) == 1 and "optout_consentevent" in touching[0], sql
    assert len(sql) == 3, sql  # the key and its company, each by its index, then the check


def test_opt_out_is_per_company(api, outsider_api, company, other_company):
    optout(company, "+31612345678")

    answer = outsider_api.get(CHECK, {"phone": "+31612345678"})

    assert answer.json()["may_send_marketing"] is True


def test_check_without_a_key_is_401(anonymous_api):
    answer = anonymous_api.get(CHECK, {"phone": "+31612345678"})

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"


# --- the list -------------------------------------------------------------------------------
def test_list_newest_first_with_each_rows_record(api, company):
    campaign = CampaignFactory(company=company)
    optout(company, "+31612345678", campaign_id=campaign.pk, reason="not_relevant",
           reason_text="  Too often  ")  # fmt: skip
    record_optout(company=company, address="bob@example.com", source=Source.IMPORT)

    rows = api.get(LIST).json()["results"]

    assert [(r["address"], r["channel"], r["source"]) for r in rows] == [
        ("bob@example.com", "email", "import"),
        ("+31612345678", "sms", "landing_page"),
    ]
    assert rows[1]["reason"] == "not_relevant"
    assert rows[1]["reason_text"] == "Too often"
    assert rows[1]["campaign_id"] == campaign.pk
    assert rows[1]["since"] and rows[1]["event_id"]


def test_list_pages_with_a_cursor(api, company):
    for n in range(5):
        optout(company, f"+3161234567{n}")

    first = api.get(LIST, {"limit": 2}).json()
    second = api.get(first["next"]).json()

    assert [r["address"] for r in first["results"]] == ["+31612345674", "+31612345673"]
    assert [r["address"] for r in second["results"]] == ["+31612345672", "+31612345671"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"address": "06 12345678"}, ["+31612345678"]),
        ({"address": "0031612345678"}, ["+31612345678"]),
        ({"address": "Bob@EXAMPLE.com"}, []),
        ({"address": "bob@example.com"}, ["bob@example.com"]),
        ({"source": "import"}, ["bob@example.com"]),
        ({"source": "api"}, []),
        ({"q": "example"}, ["bob@example.com"]),
        ({"q": "6 1234 5678"}, ["+31612345678"]),
        ({"q": "5678"}, ["+31612345678"]),
        ({"q": "nobody"}, []),
    ],
)
def test_list_filters(api, company, params, expected):
    optout(company, "+31612345678")
    record_optout(company=company, address="bob@example.com", source=Source.IMPORT)

    rows = api.get(LIST, params).json()["results"]

    assert [r["address"] for r in rows] == expected


def test_list_filters_by_moment(api, company):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=10)):
        optout(company, "+31612345678")
    optout(company, "bob@example.com")

    def listed(**params):
        return [r["address"] for r in api.get(LIST, params).json()["results"]]

    week_ago = (start - timedelta(days=7)).isoformat()
    assert listed(since=week_ago) == ["bob@example.com"]
    assert listed(until=week_ago) == ["+31612345678"]
    assert listed(since=(start - timedelta(days=10)).date().isoformat()) == [
        "bob@example.com",
        "+31612345678",
    ]


def test_since_with_an_offset_the_database_has_not_is_read_in_utc(api, company):
    optout(company, "+31612345678")

    answer = api.get(LIST, {"since": "0028-01-26T09:23:57-19:00"})

    assert answer.status_code == 200
    assert [r["address"] for r in answer.json()["results"]] == ["+31612345678"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"address": "12"}, "address"),
        ({"source": "carrier pigeon"}, "source"),
        ({"campaign": "seven"}, "campaign"),
        ({"campaign": str(2**70)}, "campaign"),
        ({"campaign": "-1"}, "campaign"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"since": "0001-01-01T00:00:00+01:00"}, "since"),
        ({"cursor": "garbage"}, None),
    ],
)
def test_bad_filters_are_4xx_with_the_error_shape(api, company, params, field):
    optout(company, "+31612345678")

    answer = api.get(LIST, params)

    assert 400 <= answer.status_code < 500
    error = answer.json()["error"]
    assert error["code"] and error["message"]
    if field:
        assert answer.status_code == 400 and field in error["fields"]


def test_outsider_lists_nothing_of_the_company(api, outsider_api, company):
    optout(company, "+31612345678")

    assert outsider_api.get(LIST).json()["results"] == []
    assert outsider_api.get(LIST, {"address": "+31612345678"}).json()["results"] == []


# --- one suppression, and its removal ---------------------------------------------------------
def test_one_suppression_by_id_or_address(api, company):
    ContactFactory(company=company, phone="+31612345678", email="anna@example.com")
    event = optout(company, "+31612345678")
    pk = event.suppressions.get(address="+31612345678").pk

    for url in (detail(str(pk)), detail("+31612345678"), LIST + "/%2B31612345678",
                detail("0612345678")):  # fmt: skip
        answer = api.get(url)
        assert answer.status_code == 200, url
        assert answer.json()["event_id"] == event.pk
    assert api.get(detail(str(pk))).json()["address"] == "+31612345678"
    email = api.get(detail("anna@example.com")).json()
    assert email["address"] == "anna@example.com"
    assert email["event_id"] == event.linked_events.get().pk


@pytest.mark.parametrize("ref", ["999999", str(2**70), "0687654321", "not-an-address", "-1"])
def test_unknown_suppression_is_404(api, company, ref):
    optout(company, "+31612345678")

    answer = api.get(detail(ref))

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_removal_is_refused_until_consent_can_be_proven(api, company):
    event = optout(company, "+31612345678")

    answer = api.delete(detail("+31612345678"))

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "consent_proof_required"
    assert "proof of their consent" in error["message"]
    assert api.delete(detail(str(event.suppressions.get().pk))).status_code == 409
    assert api.get(CHECK, {"phone": "+31612345678"}).json()["may_send_marketing"] is False


def test_removal_of_an_address_that_is_not_suppressed_is_404(api):
    assert api.delete(detail("+31612345678")).status_code == 404


def test_outsider_gets_404_for_the_companys_suppression(outsider_api, company):
    pk = optout(company, "+31612345678").suppressions.get().pk

    assert outsider_api.get(detail(str(pk))).status_code == 404
    assert outsider_api.delete(detail(str(pk))).status_code == 404
    assert outsider_api.get(detail("+31612345678")).status_code == 404


def test_an_undeliverable_address_is_listed_as_such_and_filtered(api, company):
    from optout.services import record_undeliverable

    record_undeliverable(company=company, address="bounce@example.com")
    optout(company, "+31612345678")
    rows = api.get(LIST).json()["results"]
    assert {r["address"]: r["suppressed_as"] for r in rows} == {
        "bounce@example.com": "undeliverable",
        "+31612345678": "opted_out",
    }
    only = api.get(LIST, {"suppressed_as": "undeliverable"}).json()["results"]
    assert [r["address"] for r in only] == ["bounce@example.com"]
    assert api.get(LIST, {"suppressed_as": "bounced"}).status_code == 400
