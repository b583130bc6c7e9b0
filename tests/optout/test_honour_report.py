"""Staff see every opt-out reply that took over a minute from receipt to suppression, and the
oldest STOP that reached no company."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission

from optout.honour import delay_label, oldest_unattributed_stop, slow_optouts
from optout.models import InboundMessage
from optout.services import (
    note_marketing_sent,
    optout_from_reply,
    process_inbound_sms,
    receive_inbound_sms,
)
from tests.factories import UserFactory

URL = "/admin/optout/inboundmessage/honour/"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _reply(at: datetime, sender: str, text: str, recipient: str = "36111") -> InboundMessage:
    with time_machine.travel(at, tick=False):
        return receive_inbound_sms(sender=sender, recipient=recipient, text=text)


@pytest.fixture
def replies(company, other_company):
    """A STOP applied at once; a reply a marketer read five minutes later; a STOP staff
    assigned two hours late; and replies still waiting for a company."""
    numbers = ["+33612345601", "+33612345602"]
    note_marketing_sent(company=company, campaign_id=7, shortcode="36111", addresses=numbers)
    fast = _reply(T0, numbers[0], "STOP")
    read = _reply(T0, numbers[1], "please stop texting me")
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        optout_from_reply(inbound=read)
    assigned = _reply(T0 + timedelta(seconds=1), "+31612345603", "stop", recipient="99999")
    with time_machine.travel(T0 + timedelta(hours=2, seconds=1), tick=False):
        process_inbound_sms(inbound=assigned, assign_to=other_company)
    waiting = {
        "hello": _reply(T0 - timedelta(days=1), "+31612340001", "Hello?", recipient="99999"),
        "oldest": _reply(T0 - timedelta(hours=12), "+31612340002", "Stop.", recipient="99999"),
        "newer": _reply(T0 - timedelta(hours=1), "+31612340003", "ARRET", recipient="99999"),
    }
    return {"fast": fast, "read": read, "assigned": assigned, **waiting}


def test_slow_optouts_are_listed_and_fast_ones_not(replies):
    assert replies["fast"].status == "opted_out" and replies["fast"].event is not None
    slow = list(slow_optouts())
    assert [(s.sender_e164, s.delay) for s in slow] == [
        ("+31612345603", timedelta(hours=2)),
        ("+33612345602", timedelta(minutes=5)),
    ]


def test_the_oldest_unattributed_stop_is_the_oldest_stop_not_the_oldest_reply(replies):
    assert oldest_unattributed_stop() == replies["oldest"]


def test_no_unattributed_stop_is_none(replies):
    InboundMessage.objects.filter(pk__in=[replies["oldest"].pk, replies["newer"].pk]).update(
        status=InboundMessage.Status.DISMISSED
    )
    assert oldest_unattributed_stop() is None


@pytest.mark.parametrize(
    "delay, label",
    [
        (timedelta(seconds=61), "1 min 1 s"),
        (timedelta(hours=2, minutes=3), "2 h 3 min"),
        (timedelta(days=3, hours=4, minutes=5), "3 d 4 h"),
    ],
)
def test_delays_read_at_a_glance(delay, label):
    assert delay_label(delay) == label


def test_staff_see_the_report_from_the_replies_list(admin_client, replies, company):
    changelist = admin_client.get("/admin/optout/inboundmessage/").content.decode()
    assert f'href="{URL}"' in changelist
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        response = admin_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    # Slow ones, masked, with their company, delay and how they were applied.
    assert "+33 6 •••• 5602" in page and "5 min 0 s" in page
    assert "SMS reply, read by a marketer" in page and "Acme Coffee" in page
    assert "+31 6 •••• 5603" in page and "2 h 0 min" in page and "Globex Travel" in page
    assert "2 in all." in page
    # The STOP applied at once is not there; no whole number is.
    assert "5601" not in page
    assert "+33612345602" not in page and "+31612345603" not in page
    # The oldest STOP without a company, waiting since 12 hours before T0.
    assert "+31 6 •••• 0002" in page and "15 h 0 min" in page
    assert "0001" not in page and "0003" not in page
    assert f'href="/admin/optout/inboundmessage/{replies["oldest"].pk}/change/"' in page


def test_an_empty_report_says_all_is_well(admin_client, db):
    page = admin_client.get(URL).content.decode()
    assert "every opt-out reply was applied within a minute" in page
    assert "every STOP reached its company" in page


@pytest.mark.parametrize("p", ["abc", "999", "-1", "1' OR 1=1"])
def test_a_bad_page_number_shows_a_page(admin_client, replies, p):
    response = admin_client.get(URL, {"p": p})
    assert response.status_code == 200
    assert "+33 6 •••• 5602" in response.content.decode()


def test_a_marketer_is_sent_to_the_admin_login(marketer_client, replies):
    response = marketer_client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_the_replies_permission_are_refused(client, replies):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(URL).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_inboundmessage"))
    assert client.get(URL).status_code == 200
