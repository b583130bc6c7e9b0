"""The consent-event feed: oldest first, followed with ``?after=``, never skipping one."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from optout.models import Source
from optout.selectors import FEED_SETTLE
from optout.services import record_optin, record_optout

FEED = reverse("api:consent-event-list")
SETTLED = FEED_SETTLE + timedelta(seconds=1)


def settled(client, **params) -> dict:
    """The feed as it stands once the events just written have settled."""
    with time_machine.travel(timezone.now() + SETTLED):
        answer = client.get(FEED, params)
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_events_oldest_first_with_their_record(api, company):
    out = record_optout(company=company, address="+31612345678", source=Source.LANDING_PAGE,
                        campaign_id=7, reason="too_many", reason_text="Daily is a lot")  # fmt: skip
    back = record_optin(
        company=company, address="+31612345678", source=Source.SMS_KEYWORD, raw_text="START"
    )

    page = settled(api)

    assert page["next_after"] == back.pk and page["has_more"] is False
    assert page["results"] == [
        {
            "id": out.pk,
            "kind": "opt_out",
            "address": "+31612345678",
            "channel": "sms",
            "source": "landing_page",
            "campaign_id": 7,
            "reason": "too_many",
            "reason_text": "Daily is a lot",
            "raw_text": "",
            "linked_event_id": None,
            "actor": "person",
            "created_at": page["results"][0]["created_at"],
        },
        {
            "id": back.pk,
            "kind": "opt_in",
            "address": "+31612345678",
            "channel": "sms",
            "source": "sms_keyword",
            "campaign_id": None,
            "reason": "",
            "reason_text": "",
            "raw_text": "START",
            "linked_event_id": None,
            "actor": "person",
            "created_at": page["results"][1]["created_at"],
        },
    ]


def test_following_next_after_reads_each_event_once(api, company):
    ids = [
        record_optout(company=company, address=f"+3161234567{n}", source=Source.API).pk
        for n in range(5)
    ]

    seen, after = [], 0
    for _ in range(4):
        page = settled(api, after=after, limit=2)
        seen += [e["id"] for e in page["results"]]
        after = page["next_after"]
    assert seen == ids
    assert page == {"results": [], "next_after": ids[-1], "has_more": False}


def test_has_more_says_when_to_ask_again_at_once(api, company):
    for n in range(3):
        record_optout(company=company, address=f"+3161234567{n}", source=Source.API)

    assert settled(api, limit=2)["has_more"] is True
    assert settled(api, limit=3)["has_more"] is False


def test_a_new_event_appears_once_it_has_settled(api, company):
    event = record_optout(company=company, address="+31612345678", source=Source.API)

    assert api.get(FEED).json() == {"results": [], "next_after": 0, "has_more": False}
    assert [e["id"] for e in settled(api)["results"]] == [event.pk]


def test_an_event_stamped_later_holds_back_the_ones_after_it(api, company):
    """A smaller id stamped later (a slower clock, a slow request): what follows waits."""
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=3), tick=False):
        slow = record_optout(company=company, address="+31612345678", source=Source.API)
    with time_machine.travel(start, tick=False):
        fast = record_optout(company=company, address="+31687654321", source=Source.API)
    assert slow.pk < fast.pk

    with time_machine.travel(start + FEED_SETTLE + timedelta(seconds=1), tick=False):
        assert api.get(FEED).json()["results"] == []
    with time_machine.travel(start + FEED_SETTLE + timedelta(seconds=4), tick=False):
        assert [e["id"] for e in api.get(FEED).json()["results"]] == [slow.pk, fast.pk]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has one writer at a time: an id is taken only after the last commit",
)
@pytest.mark.django_db(transaction=True)
def test_a_transaction_still_writing_holds_back_the_events_after_it(api, company):
    """An event whose transaction commits after a later one's is not skipped."""
    written, finish = threading.Event(), threading.Event()
    slow: list = []

    def slow_writer() -> None:
        try:
            from django.db import transaction

            with transaction.atomic():
                slow.append(
                    record_optout(company=company, address="+31612345678", source=Source.IMPORT)
                )
                written.set()
                finish.wait(timeout=30)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert written.wait(timeout=30)
        fast = record_optout(company=company, address="+31687654321", source=Source.API)
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            held = api.get(FEED).json()
    finally:
        finish.set()
        writer.join(timeout=30)

    assert held == {"results": [], "next_after": 0, "has_more": False}
    assert slow[0].pk < fast.pk
    assert [e["id"] for e in settled(api)["results"]] == [slow[0].pk, fast.pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "opt_in"}, ["+31612345678"]),
        ({"kind": "opt_out"}, ["+31612345678", "bob@example.com"]),
        ({"address": "06 12 34 56 78"}, ["+31612345678", "+31612345678"]),
        ({"address": "bob@example.com"}, ["bob@example.com"]),
        ({"address": "+31687654321"}, []),
    ],
)
def test_filters(api, company, params, expected):
    record_optout(company=company, address="+31612345678", source=Source.API)
    record_optout(company=company, address="bob@example.com", source=Source.API)
    record_optin(company=company, address="+31612345678", source=Source.SMS_KEYWORD)

    results = settled(api, **params)["results"]

    assert sorted(e["address"] for e in results) == sorted(expected)


def test_outsider_sees_none_of_the_companys_events(api, outsider_api, company):
    record_optout(company=company, address="+31612345678", source=Source.API)

    assert settled(outsider_api)["results"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "-1"}, "after"),
        ({"after": "ten"}, "after"),
        ({"after": str(2**70)}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "5000"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"kind": "maybe"}, "kind"),
        ({"address": "12"}, "address"),
        ({"address": "x" * 10_000}, "address"),
    ],
)
def test_bad_parameters_are_400_naming_them(api, params, field):
    answer = api.get(FEED, params)

    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]


def test_nul_in_a_parameter_is_400(api):
    assert api.get(FEED + "?address=%00").status_code == 400


def test_feed_without_a_key_is_401(anonymous_api):
    assert anonymous_api.get(FEED).status_code == 401
