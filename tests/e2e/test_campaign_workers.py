"""Campaigns sent by real worker processes on the real broker, through the CM backend to a
fake gateway on 127.0.0.1: killed workers, opt-outs mid-send, a shared rate limit, and
fairness between companies."""

import os
import signal
import time

import pytest

from addressbook.models import Contact
from campaigns.models import Campaign, Message
from campaigns.services import UNKNOWN_OUTCOME, send_campaign
from optout.services import record_optout
from tests.factories import CampaignFactory, CompanyFactory
from tests.redis_server import RedisServer

from .conftest import worker_logs

pytestmark = pytest.mark.django_db(transaction=True)


def _engine_env(gateway, **settings) -> dict[str, str]:
    """Small chunks and batches so a few hundred contacts make many hand-offs; short
    leases and a fast tick so a lost chunk comes back within seconds, not minutes."""
    return {
        **gateway.env(),
        "SEND_CHUNK_SIZE": "100",
        "SEND_BATCH_SIZE": "25",
        "SEND_CHUNK_LEASE_SECONDS": "3",
        "SEND_TICK_SECONDS": "1",
        # Longer than any hold of the fake gateway: a timed-out request is sent again.
        "CM_TIMEOUT": "60",
        **{key: str(value) for key, value in settings.items()},
    }


def _contacts(company, n: int, first: int = 0) -> list[Contact]:
    return Contact.objects.bulk_create(
        Contact(
            company=company,
            phone=f"+316{20_000_000 + first + i}",
            country="NL",
            first_name=f"Person {first + i}",
        )
        for i in range(n)
    )


def _gateway_number(phone: str) -> str:
    return "00" + phone.removeprefix("+")


def _status(campaign: Campaign) -> str:
    return Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk)


def _wait_sent(wait_for, campaign: Campaign, tmp_path, timeout: float = 90) -> None:
    try:
        wait_for(lambda: _status(campaign) == Campaign.Status.SENT, timeout, "the campaign")
    except AssertionError:
        raise AssertionError(
            f"campaign is {_status(campaign)}; worker logs:\n{worker_logs(tmp_path)}"
        ) from None


def test_a_killed_worker_leaves_every_recipient_one_hand_off(
    company, seeded_defaults, fake_gateway, start_worker_process, wait_for, tmp_path
):
    contacts = _contacts(company, 600)
    opted_out = contacts[::20]
    for contact in opted_out:
        record_optout(company=company, address=contact.phone, source="api")
    campaign = CampaignFactory(company=company)
    env = _engine_env(fake_gateway)

    # a. A worker sends; mid-campaign the gateway takes a batch but its answer never
    # comes back, and the worker is killed outright while it waits.
    first = start_worker_process(env)
    assert send_campaign(campaign=campaign)
    fake_gateway.wait_for_requests(4, timeout=60)
    fake_gateway.hold()
    held = len(fake_gateway.wait_for_requests(len(fake_gateway.requests) + 1, timeout=30))
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    fake_gateway.release()
    in_doubt = set(
        Message.objects.filter(status=Message.Status.SENDING).values_list("pk", flat=True)
    )
    assert len(in_doubt) == 25, "the kill landed during a batch's hand-off"
    assert _status(campaign) == Campaign.Status.SENDING

    # b. A new worker (with the scheduler's tick) takes the chunk over once the dead
    # worker's lease has run out, and finishes the campaign.
    start_worker_process(env, beat=True)
    _wait_sent(wait_for, campaign, tmp_path)

    # c. Exactly one Message per contact, and exactly one hand-off per reachable one.
    messages = Message.objects.filter(campaign=campaign)
    assert messages.count() == len(contacts)
    assert messages.values("contact").distinct().count() == len(contacts)
    handed = fake_gateway.count_by_reference()
    assert max(handed.values()) == 1, "nobody got the message twice"
    reachable = messages.exclude(status=Message.Status.SKIPPED)
    assert set(handed) == {str(pk) for pk in reachable.values_list("pk", flat=True)}
    assert reachable.count() == len(contacts) - len(opted_out)
    assert len(fake_gateway.requests) > held
    # The batch in flight when the worker died is not sent again; it says why.
    assert (
        set(
            messages.filter(status=Message.Status.FAILED, error=UNKNOWN_OUTCOME).values_list(
                "pk", flat=True
            )
        )
        == in_doubt
    )
    assert messages.filter(status=Message.Status.SENT).count() == reachable.count() - 25
    received = {m["number"] for m in fake_gateway.received}
    assert not received & {_gateway_number(c.phone) for c in opted_out}


def test_an_optout_during_the_send_stops_what_is_not_handed_over_yet(
    company, seeded_defaults, fake_gateway, start_worker_process, wait_for, tmp_path
):
    contacts = _contacts(company, 200)
    campaign = CampaignFactory(company=company)
    start_worker_process(_engine_env(fake_gateway))

    # The first batch (contacts 0-24) is at the gateway, which holds its answer; the rest
    # of the first chunk waits its turn (its messages are written as they go out), the
    # second chunk is not even started.
    fake_gateway.hold()
    assert send_campaign(campaign=campaign)
    fake_gateway.wait_for_requests(1, timeout=60)
    in_flight, queued, later_chunk = contacts[10], contacts[50], contacts[150]
    assert Message.objects.get(contact=in_flight).status == Message.Status.SENDING
    assert not Message.objects.filter(contact__in=[queued, later_chunk]).exists()
    for contact in (in_flight, queued, later_chunk):
        record_optout(company=company, address=contact.phone, source="landing_page")
    fake_gateway.release()
    _wait_sent(wait_for, campaign, tmp_path)

    received = [m["number"] for m in fake_gateway.received]
    assert len(received) == len(set(received)) == 198
    # Already handed over when the opt-out came: it went, as it had to.
    assert _gateway_number(in_flight.phone) in received
    for stopped in (queued, later_chunk):
        assert _gateway_number(stopped.phone) not in received
        assert Message.objects.get(contact=stopped).status == Message.Status.SKIPPED


def test_the_company_rate_holds_across_two_workers(
    company, seeded_defaults, fake_gateway, start_worker_process, wait_for, tmp_path
):
    rate, total = 20, 120
    company.sms_per_second = rate
    company.save()
    _contacts(company, total)
    campaign = CampaignFactory(company=company)
    env = _engine_env(fake_gateway, SEND_CHUNK_SIZE=20, SEND_CHUNKS_IN_FLIGHT=6)
    start_worker_process(env)
    start_worker_process(env)

    assert send_campaign(campaign=campaign)
    _wait_sent(wait_for, campaign, tmp_path)

    times = sorted(m["at"] for m in fake_gateway.received)
    assert len(times) == total
    # In any one second, at most the rate plus one batch of burst ...
    busiest = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    assert busiest <= 2 * rate, busiest
    # ... so the whole lot takes at least as long as the rate allows, with two workers
    # that without the shared limit would have sent it in a fraction of a second.
    assert times[-1] - times[0] >= (total - rate) / rate - 0.5
    # Both workers took part: the gateway saw requests over more than one connection.
    assert len({r["peer"] for r in fake_gateway.requests}) >= 2


def test_a_big_campaign_does_not_hold_up_another_company(
    company, seeded_defaults, fake_gateway, start_worker_process, wait_for, tmp_path
):
    big = CampaignFactory(company=company)
    _contacts(company, 2000)
    other = CompanyFactory(name="Small Shop")
    small = CampaignFactory(company=other)
    _contacts(other, 100, first=5000)
    start_worker_process(_engine_env(fake_gateway))

    assert send_campaign(campaign=big)
    fake_gateway.wait_for_requests(1, timeout=60)
    assert send_campaign(campaign=small)
    _wait_sent(wait_for, small, tmp_path)

    big_sent = Message.objects.filter(campaign=big, status=Message.Status.SENT).count()
    assert big_sent < 1000, "the small campaign went between the big one's chunks"
    _wait_sent(wait_for, big, tmp_path)
    assert len(fake_gateway.received) == 2100


def test_the_send_finishes_after_the_broker_restarts(
    company, seeded_defaults, fake_gateway, start_worker_process, wait_for, tmp_path
):
    """Redis holds the queue and nothing on disk: a restart loses every queued task.

    On a Redis server of the test's own, which it can stop and start, whatever broker the
    other tests use."""
    server = RedisServer(tmp_path).start()
    try:
        contacts = _contacts(company, 400)
        campaign = CampaignFactory(company=company)
        env = _engine_env(fake_gateway, SEND_CHUNK_SIZE=50, **server.env())
        start_worker_process(env, beat=True)
        fake_gateway.hold()
        # Started by the scheduler in the worker, on that Redis, as a scheduled send is.
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.SCHEDULED, scheduled_at="2020-01-01T00:00Z"
        )
        fake_gateway.wait_for_requests(1, timeout=60)

        server.stop()
        time.sleep(2)
        server.start()
        fake_gateway.release()
        _wait_sent(wait_for, campaign, tmp_path, timeout=120)
    finally:
        server.stop()

    handed = fake_gateway.count_by_reference()
    assert max(handed.values()) == 1
    assert len(handed) == len(contacts)
    assert Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count() == 400
