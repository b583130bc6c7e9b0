"""/api/v1/campaigns/: drafted, previewed and sent as in the editor, through its services."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from addressbook.models import AuditEvent, CustomField
from campaigns.models import Campaign, Message
from optout.models import CountryRule
from optout.services import record_optout
from tests.campaigns.running import run_campaign
from tests.factories import CampaignFactory, ContactFactory

Status = Campaign.Status
NL_FOOTER = "Afmelden: SMS STOP naar 3010"


def _sms(**fields) -> dict:
    return {"name": "Spring beans", "channel": "sms", "body": "Hi {{ first_name }}!", **fields}


@pytest.fixture(autouse=True)
def _any_hour(db):
    """Sending hours have tests of their own; these must not depend on the hour they run."""
    CountryRule.objects.update(send_hours={})


@pytest.fixture
def audience(company):
    """A group of two Dutch contacts and a French one, a German outside it, a custom field."""
    CustomField.objects.create(company=company, name="City", key="city")
    regulars = company.groups.create(name="Regulars")
    ada = ContactFactory(company=company, first_name="Ada", custom={"city": "Delft"})
    bo = ContactFactory(company=company, first_name="Bo", custom={"city": "Gent"})
    cleo = ContactFactory(
        company=company, first_name="Cleo", phone="+33612345678", country="FR", custom={}
    )
    ContactFactory(company=company, first_name="Dirk", phone="+4915112345678", country="DE")
    for contact in (ada, bo, cleo):
        contact.groups.add(regulars)
    return regulars


@pytest.fixture
def draft(company, audience):
    return CampaignFactory(company=company, body="Hi {{ first_name }}!", sender="AcmeCoffee")


# --- create, list, read ------------------------------------------------------------------
def test_create_saves_a_draft_with_its_audience(api, company, audience):
    record_optout(company=company, address="+33612345678", source="sms_keyword")
    response = api.post(
        "/api/v1/campaigns/",
        _sms(groups=[audience.pk], countries=["nl", "FR"], sender="AcmeCoffee"),
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["groups"] == [audience.pk]
    assert body["countries"] == ["FR", "NL"]
    assert body["sender"] == "AcmeCoffee"
    assert body["counters"]["audience"] == 3
    assert body["counters"]["skipped"] == 1
    assert api.get(f"/api/v1/campaigns/{body['id']}").json() == body


def test_create_without_sender_uses_the_company_s(api, company):
    response = api.post("/api/v1/campaigns/", _sms(), format="json")
    assert response.json()["sender"] == "Acme Coffee"
    email = api.post(
        "/api/v1/campaigns/",
        {"name": "News", "channel": "email", "subject": "News", "body": "Hello"},
        format="json",
    )
    assert email.status_code == 201
    assert "Acme Coffee" in email.json()["sender"]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"body": "Hi {{ firstname }}"}, "body", "Unknown placeholder {{ firstname }}"),
        ({"body": '{% now "Y" %} deals'}, "body", "Only placeholders"),
        ({"sender": "Acme Coffee Roasters"}, "sender", "An SMS sender is up to 11"),
        ({"channel": "email", "subject": ""}, "subject", "An email needs a subject."),
        ({"channel": "email", "subject": "Hi", "sender": "not-mail"}, "sender", "email address"),
        (
            {"field_conditions": [{"key": "shoe_size", "op": "is", "value": "42"}]},
            "field_conditions",
            "Condition 1: “shoe_size” is none of your custom fields (city).",
        ),
        ({"field_conditions": [{"key": "city", "op": "is", "value": "  "}]}, "", "blank"),
        ({"countries": ["Netherlands"]}, "countries", ""),
        ({"groups": [2**63]}, "groups", ""),
        ({"groups": "all"}, "groups", ""),
        (
            {"body": "Beans! " * 300},
            "body",
            "this SMS takes 15 parts; your company sends at most 8",
        ),
        ({"name": "x" * 121}, "name", "120"),
        ({"name": None}, "name", ""),
    ],
)
def test_create_refuses_what_the_editor_refuses(api, audience, fields, field, words):
    response = api.post("/api/v1/campaigns/", _sms(**fields), format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    found = " ".join(
        m for name, ms in error["fields"].items() if name.startswith(field) for m in ms
    )
    assert found and words in found, error
    assert not Campaign.objects.exists()


def test_create_refuses_another_company_s_group(api, other_company):
    theirs = other_company.groups.create(name="Their group")
    response = api.post("/api/v1/campaigns/", _sms(groups=[theirs.pk]), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["groups"] == [
        f"No group with id {theirs.pk} in this company."
    ]


def test_create_with_idempotency_key_creates_one_campaign(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-campaign-1"}
    first = api.post("/api/v1/campaigns/", _sms(), format="json", **headers)
    again = api.post("/api/v1/campaigns/", _sms(), format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Campaign.objects.count() == 1


def test_list_filters_by_status_and_channel(api, company, other_company):
    sms = CampaignFactory(company=company, name="SMS draft")
    sent = CampaignFactory(company=company, name="Sent", status=Status.SENT)
    email = CampaignFactory(company=company, name="Mail", channel="email", subject="Hi")
    CampaignFactory(company=other_company, name="Theirs")

    def names(query: str = "") -> list[str]:
        response = api.get(f"/api/v1/campaigns/{query}")
        assert response.status_code == 200
        return [c["name"] for c in response.json()["results"]]

    assert names() == [email.name, sent.name, sms.name]
    assert names("?status=sent") == ["Sent"]
    assert names("?channel=email") == ["Mail"]
    assert names("?status=draft&channel=sms") == ["SMS draft"]
    bad = api.get("/api/v1/campaigns/?status=done&channel=fax")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"status", "channel"}


# --- edit while a draft ------------------------------------------------------------------
def test_patch_changes_only_the_fields_given(api, draft, audience):
    response = api.patch(
        f"/api/v1/campaigns/{draft.pk}",
        {"body": "Dag {{ first_name }} uit {{ city }}", "groups": [audience.pk]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["body"] == "Dag {{ first_name }} uit {{ city }}"
    assert body["groups"] == [audience.pk]
    assert body["name"] == draft.name
    assert body["sender"] == "AcmeCoffee"
    assert body["counters"]["audience"] == 3


def test_patch_to_email_does_not_keep_the_sms_sender(api, draft):
    response = api.patch(
        f"/api/v1/campaigns/{draft.pk}", {"channel": "email", "subject": "News"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["sender"] != "AcmeCoffee"


def test_patch_refuses_a_bad_body_and_keeps_the_draft(api, draft):
    response = api.patch(f"/api/v1/campaigns/{draft.pk}", {"body": "{{ nope }}"}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()["error"]["fields"]
    assert api.get(f"/api/v1/campaigns/{draft.pk}").json()["body"] == "Hi {{ first_name }}!"


@pytest.mark.parametrize("state", [Status.SCHEDULED, Status.SENDING, Status.SENT])
def test_patch_of_a_campaign_that_is_no_draft_is_a_409(api, draft, state):
    Campaign.objects.filter(pk=draft.pk).update(status=state)
    response = api.patch(f"/api/v1/campaigns/{draft.pk}", {"name": "Renamed"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "not_draft"
    assert error["message"].startswith(f"“{draft.name}” cannot be edited: it is ")
    assert error["message"].endswith("Unschedule it first.") == (state == Status.SCHEDULED)
    assert Campaign.objects.get(pk=draft.pk).name == draft.name


# --- preview -----------------------------------------------------------------------------
def test_preview_shows_each_country_s_text_parts_and_audience(api, company, draft):
    record_optout(company=company, address="+4915112345678", source="api")
    response = api.get(f"/api/v1/campaigns/{draft.pk}/preview")

    assert response.status_code == 200
    preview = response.json()
    assert (preview["audience"], preview["skipped"], preview["reachable"]) == (4, 1, 3)
    by_country = {c["country"]: c for c in preview["countries"]}
    assert set(by_country) == {"DE", "FR", "NL"}
    nl = by_country["NL"]
    assert nl["body"] == f"Hi Ada!\n{NL_FOOTER}"
    assert nl["footer"] == NL_FOOTER
    assert (nl["total"], nl["reachable"], nl["skipped"]) == (2, 2, 0)
    assert (nl["encoding"], nl["parts"], nl["total_parts"]) == ("GSM-7", 1, 2)
    assert by_country["DE"]["skipped"] == 1
    assert preview["counter"]["encoding"] == "GSM-7"
    assert preview["estimated_parts"] == 3
    assert preview["errors"] == {}


def test_preview_of_changes_counts_unicode_and_names_errors(api, draft):
    response = api.post(
        f"/api/v1/campaigns/{draft.pk}/preview",
        {"body": "Hi {{ first_name }} — “fresh” beans", "countries": ["NL"]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    preview = response.json()
    assert preview["audience"] == 2
    assert preview["counter"]["encoding"] == "UCS-2"
    assert preview["counter"]["replaceable"] == {"—": "-", "“": '"', "”": '"'}
    replaced = api.post(
        f"/api/v1/campaigns/{draft.pk}/preview",
        {"body": "Hi {{ first_name }} — “fresh” beans", "replace_lookalikes": True},
        format="json",
    ).json()
    assert replaced["body"] == 'Hi {{ first_name }} - "fresh" beans'
    assert replaced["counter"]["encoding"] == "GSM-7"
    bad = api.post(f"/api/v1/campaigns/{draft.pk}/preview", {"body": "{{ nope }}"}, format="json")
    assert bad.status_code == 200
    assert "Unknown placeholder" in bad.json()["errors"]["body"][0]
    assert Campaign.objects.get(pk=draft.pk).body == "Hi {{ first_name }}!"


def test_preview_of_an_email_shows_the_first_contact_s_mail(api, company):
    ContactFactory(company=company, first_name="Ada", email="ada@example.com")
    ContactFactory(company=company, first_name="Bo", email="")  # no address: not in it
    campaign = CampaignFactory(
        company=company, channel="email", subject="Hi {{ first_name }}", body="Beans!"
    )

    preview = api.get(f"/api/v1/campaigns/{campaign.pk}/preview").json()

    assert (preview["audience"], preview["counter"], preview["estimated_parts"]) == (1, None, None)
    (mail,) = preview["countries"]
    assert mail["country"] is None
    assert mail["body"].startswith("Subject: Hi Ada\n\nBeans!")
    assert "https://no-s.test/u/" in mail["body"]


def test_preview_names_a_condition_on_no_field_without_querying_it(api, draft):
    response = api.post(
        f"/api/v1/campaigns/{draft.pk}/preview",
        {"field_conditions": [{"key": "x__contains", "op": "is", "value": "1"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["audience"] == 4
    assert "none of your custom fields" in response.json()["errors"]["field_conditions"][0]


def test_preview_of_a_campaign_not_saved_yet(api, audience):
    response = api.post(
        "/api/v1/campaigns/preview",
        {"body": "Hoi {{ first_name }}", "groups": [audience.pk], "countries": ["FR"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    (france,) = response.json()["countries"]
    assert france["country"] == "FR"
    assert france["body"].startswith("Hoi Cleo\n")
    assert response.json()["errors"] == {"name": ["Give the campaign a name."]}


def test_preview_of_changes_to_a_sent_campaign_is_a_409(api, draft):
    Campaign.objects.filter(pk=draft.pk).update(status=Status.SENT)
    response = api.post(f"/api/v1/campaigns/{draft.pk}/preview", {"body": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_draft"


# --- the lifecycle -----------------------------------------------------------------------
def test_send_starts_it_once_and_is_on_the_record(api, draft, issued_key):
    response = api.post(f"/api/v1/campaigns/{draft.pk}/send")
    assert response.status_code == 200
    assert response.json()["status"] == "sending"

    again = api.post(f"/api/v1/campaigns/{draft.pk}/send")
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "invalid_state",
        "message": f"“{draft.name}” cannot be sent now: it is sending.",
        "fields": {},
    }
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.CAMPAIGN_SENT)
    assert event.details == {"channel": "sms", "api_key": "CRM sync"}


def test_send_retried_with_its_idempotency_key_replays_the_answer(api, draft):
    headers = {"HTTP_IDEMPOTENCY_KEY": "send-spring-beans"}
    first = api.post(f"/api/v1/campaigns/{draft.pk}/send", **headers)
    again = api.post(f"/api/v1/campaigns/{draft.pk}/send", **headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CAMPAIGN_SENT).count() == 1


def test_schedule_reads_a_time_without_offset_in_the_company_s_zone(api, draft):
    later = timezone.now() + timedelta(days=2)
    local = later.astimezone(datetime.now().astimezone().tzinfo)  # any zone: offset given
    response = api.post(
        f"/api/v1/campaigns/{draft.pk}/schedule", {"at": local.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "scheduled"
    at = datetime.fromisoformat(response.json()["scheduled_at"])
    assert abs(at - later) < timedelta(seconds=1)

    naive = api.post(
        f"/api/v1/campaigns/{draft.pk}/schedule", {"at": "2099-06-01T09:00:00"}, format="json"
    )
    assert naive.status_code == 200
    event = AuditEvent.objects.filter(action=AuditEvent.Action.CAMPAIGN_SCHEDULED).first()
    assert event.details == {
        "channel": "sms",
        "api_key": "CRM sync",
        "send_at": "2099-06-01T09:00:00+02:00",
    }
    # Amsterdam is two hours ahead of UTC in June.
    assert Campaign.objects.get(pk=draft.pk).scheduled_at == datetime(2099, 6, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("2000-01-01T00:00:00Z", "Pick a time in the future."),
        ("tomorrow", "Datetime has wrong format"),
        ("0001-01-01T00:00:00+14:00", "out of range"),
        (None, "null"),
    ],
)
def test_schedule_refuses_a_time_that_is_no_future_time(api, draft, at, words):
    response = api.post(f"/api/v1/campaigns/{draft.pk}/schedule", {"at": at}, format="json")
    assert response.status_code == 400
    assert words in response.json()["error"]["fields"]["at"][0]
    assert Campaign.objects.get(pk=draft.pk).status == Status.DRAFT


def test_unschedule_makes_it_a_draft_again(api, draft):
    api.post(f"/api/v1/campaigns/{draft.pk}/schedule", {"at": "2099-06-01T09:00"}, format="json")
    response = api.post(f"/api/v1/campaigns/{draft.pk}/unschedule")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["scheduled_at"]) == ("draft", None)
    assert api.post(f"/api/v1/campaigns/{draft.pk}/unschedule").status_code == 409


def test_pause_resume_and_cancel_follow_the_campaign_s_state(api, draft, outbox):
    url = f"/api/v1/campaigns/{draft.pk}"
    assert api.post(f"{url}/pause").status_code == 409  # a draft is not sending
    assert api.post(f"{url}/resume").status_code == 409
    assert api.post(f"{url}/cancel").status_code == 409
    api.post(f"{url}/send")

    assert api.post(f"{url}/pause").json()["status"] == "paused"
    assert api.post(f"{url}/pause").json()["error"]["message"].endswith("it is paused.")
    assert api.post(f"{url}/resume").json()["status"] == "sending"
    cancelled = api.post(f"{url}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert api.post(f"{url}/resume").status_code == 409
    run_campaign(draft)
    assert outbox == []


# --- messages and counters -----------------------------------------------------------------
def test_counters_and_messages_after_sending(api, marketer_client, company, draft, outbox):
    ContactFactory(company=company, first_name="Thandi", phone="+27711234567", country="ZA")
    record_optout(company=company, address="+4915112345678", source="api")
    api.post(f"/api/v1/campaigns/{draft.pk}/send")
    run_campaign(draft)

    counters = api.get(f"/api/v1/campaigns/{draft.pk}").json()["counters"]
    assert counters | {"waiting_until": None} == {
        "audience": 5,
        "skipped": 1,
        "queued": 0,
        "sent": 4,
        "delivered": 0,
        "failed": 0,
        "cancelled": 0,
        "optouts": 0,
        "optout_percent": 0.0,
        "done_percent": 100,
        "waiting_until": None,
    }
    page = api.get(f"/api/v1/campaigns/{draft.pk}/messages").json()
    by_to = {m["to"]: m for m in page["results"]}
    assert len(by_to) == 5
    south_africa = by_to["+27711234567"]
    code = Message.objects.get(to="+27711234567").short_code
    assert south_africa["short_link"] == f"https://no-s.test/{code}"
    assert south_africa["body"].endswith(south_africa["short_link"])
    assert (south_africa["status"], south_africa["campaign_id"], south_africa["kind"]) == (
        "sent",
        draft.pk,
        "marketing",
    )
    assert south_africa["segments"] == {"encoding": "GSM-7", "parts": 1}
    # The message's page on the dashboard shows the same link.
    page = marketer_client.get(f"/campaigns/messages/{south_africa['id']}/").content.decode()
    assert south_africa["short_link"] in page
    # Where the opt-out is a reply, the message has no link of its own.
    assert by_to["+33612345678"]["short_link"] == ""
    assert by_to["+33612345678"]["body"] == "Hi Cleo!\nSTOP au 36111"
    assert by_to["+4915112345678"]["status"] == "skipped"
    skipped = api.get(f"/api/v1/campaigns/{draft.pk}/messages?status=skipped").json()
    assert [m["to"] for m in skipped["results"]] == ["+4915112345678"]
    assert api.get(f"/api/v1/campaigns/{draft.pk}/messages?status=lost").status_code == 400


def test_messages_come_in_cursor_pages(api, company, draft):
    api.post(f"/api/v1/campaigns/{draft.pk}/send")
    run_campaign(draft)
    first = api.get(f"/api/v1/campaigns/{draft.pk}/messages?limit=3").json()
    second = api.get(first["next"]).json()
    seen = [m["id"] for m in first["results"] + second["results"]]
    assert len(seen) == len(set(seen)) == 4
    assert second["next"] is None


# --- another company's ids ---------------------------------------------------------------
ROUTES = [
    ("get", ""),
    ("patch", ""),
    ("get", "/preview"),
    ("post", "/preview"),
    ("post", "/send"),
    ("post", "/schedule"),
    ("post", "/unschedule"),
    ("post", "/pause"),
    ("post", "/resume"),
    ("post", "/cancel"),
    ("get", "/messages"),
]


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_another_company_s_campaign_is_a_404(outsider_api, draft, method, suffix):
    Campaign.objects.filter(pk=draft.pk).update(status=Status.SENDING)
    body = {"at": "2099-01-01T00:00:00Z", "name": "Mine now"}
    response = getattr(outsider_api, method)(
        f"/api/v1/campaigns/{draft.pk}{suffix}", body, format="json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    draft.refresh_from_db()
    assert (draft.status, draft.name) == (Status.SENDING, draft.name)


@pytest.mark.parametrize("pk", [0, 2**63, 10**30])
def test_ids_no_campaign_can_have_are_a_404(api, pk):
    assert api.get(f"/api/v1/campaigns/{pk}").status_code == 404
    assert api.post(f"/api/v1/campaigns/{pk}/send").status_code == 404


@pytest.mark.parametrize("suffix", ["", "/preview", "/send", "/messages"])
def test_options_is_no_method_of_the_api(api, draft, suffix):
    response = api.options(f"/api/v1/campaigns/{draft.pk}{suffix}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_without_a_key_nothing_is_answered(anonymous_api, draft):
    assert anonymous_api.get("/api/v1/campaigns/").status_code == 401
    assert anonymous_api.post(f"/api/v1/campaigns/{draft.pk}/send").status_code == 401
    assert Campaign.objects.get(pk=draft.pk).status == Status.DRAFT


# --- the whole way, with a real worker -------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_created_previewed_and_sent_through_the_api_reaches_each_recipient_once(
    seeded_defaults, celery_worker, company, api, outbox, wait_for
):
    CountryRule.objects.update(send_hours={})  # seeded again after the autouse fixture
    group = company.groups.create(name="Regulars")
    for n in range(5):
        ContactFactory(company=company, first_name=f"Fan{n}").groups.add(group)
    ContactFactory(company=company, first_name="Outside")
    record_optout(
        company=company, address=company.contacts.get(first_name="Fan0").phone, source="api"
    )

    created = api.post(
        "/api/v1/campaigns/",
        _sms(groups=[group.pk], sender="AcmeCoffee"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="spring",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    preview = api.get(f"/api/v1/campaigns/{pk}/preview").json()
    assert (preview["audience"], preview["skipped"]) == (5, 1)
    for _ in range(2):  # a retried send starts nothing more
        sent = api.post(f"/api/v1/campaigns/{pk}/send", HTTP_IDEMPOTENCY_KEY="send-spring")
        assert sent.status_code == 200
    wait_for(
        lambda: api.get(f"/api/v1/campaigns/{pk}").json()["status"] == "sent",
        what="the campaign to finish",
    )

    fans = company.contacts.filter(first_name__in=[f"Fan{n}" for n in range(1, 5)])
    expected = {(c.phone, f"Hi {c.first_name}!\n{NL_FOOTER}") for c in fans}
    assert sorted((sms.to, sms.body) for sms in outbox) == sorted(expected)
    counters = api.get(f"/api/v1/campaigns/{pk}").json()["counters"]
    assert (counters["audience"], counters["sent"], counters["skipped"]) == (5, 4, 1)


# --- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("post", "/api/v1/campaigns/", ["not", "an", "object"]),
        ("post", "/api/v1/campaigns/", {"name": "x", "body": "a\u0000b"}),
        ("post", "/api/v1/campaigns/", {"name": "x", "body": "b", "field_conditions": "city"}),
        ("post", "/api/v1/campaigns/", {"name": "x", "body": "b", "groups": [True]}),
        ("patch", "/api/v1/campaigns/{pk}", {"groups": None}),
        ("patch", "/api/v1/campaigns/{pk}", {"channel": "fax"}),
        ("post", "/api/v1/campaigns/{pk}/preview", {"countries": "NL"}),
        ("post", "/api/v1/campaigns/preview", {"groups": [10**30]}),
        ("post", "/api/v1/campaigns/preview", {"field_conditions": [{"op": "is", "value": "0"}]}),
        ("patch", "/api/v1/campaigns/{pk}", {"field_conditions": [{"key": "city"}]}),
        ("post", "/api/v1/campaigns/{pk}/schedule", {"at": 1234567890}),
        ("post", "/api/v1/campaigns/{pk}/schedule", ["2099-01-01T00:00:00Z"]),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(api, draft, method, suffix, payload):
    response = getattr(api, method)(suffix.format(pk=draft.pk), payload, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    fresh = Campaign.objects.get(pk=draft.pk)
    assert (fresh.status, fresh.body, Campaign.objects.count()) == (Status.DRAFT, draft.body, 1)


def test_a_time_with_an_offset_postgresql_cannot_store_is_read_as_the_moment_it_names(api, draft):
    response = api.post(
        f"/api/v1/campaigns/{draft.pk}/schedule", {"at": "2099-01-01T00:00:00-19:00"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Campaign.objects.get(pk=draft.pk).scheduled_at == datetime(2099, 1, 1, 19, tzinfo=UTC)


def test_a_repeated_filter_is_a_400(api):
    response = api.get("/api/v1/campaigns/?status=draft&status=sent")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"status": ["Give status once."]}
