"""Sending a campaign: planned in keyset chunks, each sent by one worker at a time.

The database drives the work, not the broker: a chunk row says who may send it and until
when (its lease), so a task lost with a broker restart, or a worker killed mid-chunk, only
delays its chunk until the lease runs out and the periodic tick hands it out again.
"""

import logging
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from optout.models import CountryRule
from optout.selectors import country_rules, only_suppressed
from optout.sendhours import SendHours, judged_at
from optout.services import note_reply_routes

from .. import throttle
from ..backends import UNKNOWN_OUTCOME_PREFIX
from ..models import Campaign, CampaignChunk, Channel, Message
from ..selectors import campaign_audience
from .handoff import Outgoing, hand_off
from .messages import Draft, Drafts, claim_queued

logger = logging.getLogger(__name__)
T = TypeVar("T")

UNKNOWN_OUTCOME = (
    f"{UNKNOWN_OUTCOME_PREFIX} the worker stopped while handing this message to the gateway"
)
# A throttled batch waits in the worker this long at most, then yields its place.
MAX_THROTTLE_WAIT = 1.0


def chunk_lease() -> timedelta:
    """How long a worker owns a chunk without news; longer than any one batch's hand-off,
    gateway retries and throttle wait included, so a live worker never loses it."""
    return timedelta(seconds=settings.SEND_CHUNK_LEASE_SECONDS)


def plan_campaign(*, campaign_id: int) -> None:
    """Cut the audience into keyset chunks, once, and hand out the first ones."""
    started = [Campaign.Status.SENDING, Campaign.Status.PAUSED]
    with transaction.atomic():
        # The lock makes a redelivered plan task wait, then find the chunks made.
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status in started and not campaign.chunks.exists():
            chunks = CampaignChunk.objects.bulk_create(_cut(campaign))
            if not chunks:  # nobody to send to: done
                Campaign.objects.filter(pk=campaign_id, status__in=started).update(
                    status=Campaign.Status.SENT, finished_at=timezone.now()
                )
    dispatch(campaign_id=campaign_id)


def _cut(campaign: Campaign) -> list[CampaignChunk]:
    ids = campaign_audience(campaign=campaign).order_by("id").values_list("id", flat=True)
    size = settings.SEND_CHUNK_SIZE
    chunks, after = [], 0
    while page := list(ids.filter(id__gt=after)[:size]):
        # Keyset, never OFFSET: each step reads one index range.
        chunks.append(CampaignChunk(campaign=campaign, after_id=after, upto_id=page[-1]))
        after = page[-1]
    return chunks


def dispatch(*, campaign_id: int) -> int:
    """Queue chunks until ``SEND_CHUNKS_IN_FLIGHT`` of this campaign are queued or running.

    A few chunks per campaign at a time, never all of them: another company's campaign
    started later gets its turn between them instead of waiting behind a million.
    """
    from ..tasks import send_chunk_task

    if not Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).exists():
        return 0
    now = timezone.now()
    chunks = CampaignChunk.objects.filter(campaign_id=campaign_id, done_at__isnull=True)
    if not chunks.exists():
        # Every chunk done, or none made yet: only the plan finishes an unplanned one.
        if CampaignChunk.objects.filter(campaign_id=campaign_id).exists():
            _finish_if_done(campaign_id)
        return 0
    busy = chunks.filter(leased_until__gte=now).count()
    idle = (
        chunks.filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .order_by("after_id")
    )
    queued = 0
    room = max(0, settings.SEND_CHUNKS_IN_FLIGHT - busy)
    for chunk_id in idle.values_list("id", flat=True)[:room]:
        token = uuid.uuid4().hex
        # Reserved for the task about to be queued; if the broker loses that task, the
        # reservation runs out and a later dispatch queues the chunk again.
        if idle.filter(pk=chunk_id).update(lease=token, leased_until=now + chunk_lease()):
            transaction.on_commit(
                lambda chunk_id=chunk_id, token=token: send_chunk_task.delay(chunk_id, token)
            )
            queued += 1
    return queued


def release_held_chunks(*, campaign_ids: list[int] | None = None) -> int:
    """Hand out again, now, the chunks of sending campaigns (of these, or all) that wait
    for sending hours: their next run judges the hours afresh, sends whoever may get it
    now and holds the rest until their own opening. Returns how many chunks it released.

    For when the hours may have changed under them (a country rule edited, a resume, an
    override): the time a chunk was held until was judged by the rules of its last run.
    """
    held = CampaignChunk.objects.filter(
        done_at__isnull=True,
        not_before__gt=timezone.now(),
        campaign__status=Campaign.Status.SENDING,
    )
    if campaign_ids is not None:
        held = held.filter(campaign_id__in=campaign_ids)
    campaigns = sorted(set(held.values_list("campaign_id", flat=True)))
    released = held.update(not_before=None)
    for campaign_id in campaigns:
        dispatch(campaign_id=campaign_id)
    return released


def tick() -> None:
    """Periodic: start campaigns whose time has come and hand out chunks whose worker
    or queued task was lost."""
    from ..tasks import plan_campaign_task
    from .lifecycle import start_due_campaigns

    start_due_campaigns()
    stalled_plan = timezone.now() - chunk_lease()
    for campaign_id, started_at, planned in (
        Campaign.objects.filter(status=Campaign.Status.SENDING)
        .annotate(planned=Exists(CampaignChunk.objects.filter(campaign=OuterRef("pk"))))
        .values_list("pk", "started_at", "planned")
    ):
        if planned:
            dispatch(campaign_id=campaign_id)
        elif started_at is None or started_at < stalled_plan:
            plan_campaign_task.delay(campaign_id)


class RetryLater(Exception):
    """This chunk should run again in ``countdown`` seconds, as ``attempt``; its place is
    kept for that task."""

    def __init__(self, reason: str, countdown: float, attempt: int):
        super().__init__(reason)
        self.countdown = countdown
        self.attempt = attempt


def _backoff(attempt: int) -> float:
    """Exponential, capped, with jitter so retried chunks do not come back in step."""
    ceiling = min(settings.SEND_RETRY_BACKOFF_SECONDS * 2**attempt, 300)
    return random.uniform(ceiling / 2, ceiling)


@dataclass
class _Lease:
    chunk: CampaignChunk
    token: str
    taken_at: datetime

    def renew(self) -> bool:
        return bool(
            CampaignChunk.objects.filter(pk=self.chunk.pk, lease=self.token).update(
                leased_until=timezone.now() + chunk_lease()
            )
        )

    def keep_for(self, task_token: str, seconds: float) -> None:
        """Give the chunk back to the task that will retry it in ``seconds``."""
        CampaignChunk.objects.filter(pk=self.chunk.pk, lease=self.token).update(
            lease=task_token,
            leased_until=timezone.now() + timedelta(seconds=seconds) + chunk_lease(),
        )

    def release(self) -> None:
        CampaignChunk.objects.filter(pk=self.chunk.pk, lease=self.token).update(leased_until=None)

    def hold(self, *, until: datetime) -> None:
        """Done for now; the rest waits for its sending hours, then is dispatched again."""
        # Staff overrode the hours, or changed a rule, while this run judged them by the
        # old ones: no waiting then, the next run judges again.
        changed = (
            Campaign.objects.filter(
                pk=self.chunk.campaign_id, hours_overridden_at__isnull=False
            ).exists()
            or CountryRule.objects.filter(
                updated_at__range=(self.taken_at, timezone.now())
            ).exists()
        )
        CampaignChunk.objects.filter(pk=self.chunk.pk, lease=self.token).update(
            leased_until=None, not_before=None if changed else until
        )

    def finish(self) -> bool:
        return bool(
            CampaignChunk.objects.filter(
                pk=self.chunk.pk, lease=self.token, done_at__isnull=True
            ).update(done_at=timezone.now(), leased_until=None)
        )


def _take_lease(chunk_id: int, task_token: str) -> _Lease | None:
    """The chunk for this worker alone: if it was reserved for this task, or its last
    owner's lease ran out. A duplicate task finds it taken and does nothing."""
    now = timezone.now()
    token = uuid.uuid4().hex
    taken = (
        CampaignChunk.objects.filter(pk=chunk_id, done_at__isnull=True)
        .filter(Q(lease=task_token) | Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(lease=token, leased_until=now + chunk_lease())
    )
    if not taken:
        return None
    chunk = CampaignChunk.objects.select_related("campaign__company").get(pk=chunk_id)
    return _Lease(chunk, token, now)


def send_chunk(*, chunk_id: int, task_token: str = "", attempt: int = 0) -> None:
    """Send one chunk; safe to run again, and never by two workers at once.

    Raises RetryLater when throttled or when the gateway could not take a batch; the
    caller queues the chunk again as that says.
    """
    from .alarm import check_optout_alarm  # it pauses through lifecycle, which imports this

    lease = _take_lease(chunk_id, task_token)
    if lease is None:
        return  # done, or another worker has it
    chunk, campaign = lease.chunk, lease.chunk.campaign
    in_chunk = chunk.messages()
    # Left in SENDING by a worker that died during a hand-off: the gateway may or may not
    # have them, and sending again could deliver twice. Say so rather than guess; a
    # delivery report, if one comes, still marks them delivered.
    in_chunk.filter(status=Message.Status.SENDING).update(
        status=Message.Status.FAILED, error=UNKNOWN_OUTCOME
    )
    rate = _rate(campaign)
    batch_size = min(settings.SEND_BATCH_SIZE, rate) if rate else settings.SEND_BATCH_SIZE
    drafts, batches, held_until = _this_run(campaign, chunk, batch_size)

    def park() -> None:
        """Stopping early: what this run composed and did not send waits as queued rows,
        as a paused campaign's messages do, for the next run to claim by id."""
        drafts.write([d for batch in batches for d in batch if isinstance(d, Draft)])

    while batches:
        if not _still_sending(campaign, lease, in_chunk, park):
            return
        batch = batches[0]
        if rate and (wait := _throttle(campaign, len(batch), rate)):
            park()
            lease.keep_for(task_token, wait)
            raise RetryLater("over the company's sending rate", wait, attempt)
        batches.pop(0)
        claimed = (
            drafts.claim(batch) if isinstance(batch[0], Draft) else claim_queued(batch, campaign)
        )
        last_attempt = attempt + 1 >= settings.SEND_MAX_ATTEMPTS
        if reason := _send_batch(campaign, claimed, last_attempt=last_attempt):
            park()
            countdown = _backoff(attempt)
            lease.keep_for(task_token, countdown)
            raise RetryLater(reason, countdown, attempt + 1)
        # A pause it makes stops this loop at the next batch, like a person's pause.
        check_optout_alarm(campaign=campaign)
    # Still queued now means the address opted out between listing and claiming.
    only_suppressed(in_chunk.filter(status=Message.Status.QUEUED), address_field="to").update(
        status=Message.Status.SKIPPED
    )
    if held_until:
        lease.hold(until=held_until)
    elif not lease.finish():
        return
    dispatch(campaign_id=campaign.pk)


def _this_run(
    campaign: Campaign, chunk: CampaignChunk, batch_size: int
) -> tuple[Drafts, list[list], datetime | None]:
    """What this run of the chunk sends, in batches, and when the first of those who must
    wait for their sending hours may have theirs.

    Messages an earlier run left queued go first, by id; then the contacts that have none
    yet, as drafts whose rows are written as they go out. Who had opted out is written
    skipped now, and who is outside their sending hours queued, to wait for them.
    """
    hours = _hours(campaign)
    drafts = Drafts(campaign, chunk)
    rows = chunk.messages().filter(status=Message.Status.QUEUED).order_by("id")
    queued, _, queued_until = _due_now(hours, rows.values_list("id", "country", "to"))
    reachable = [(d, d.country, d.to) for d in drafts.pending if d.reachable]
    fresh, waiting, fresh_until = _due_now(hours, reachable)
    drafts.write([d for d in drafts.pending if not d.reachable] + waiting)
    batches = [
        *(queued[i : i + batch_size] for i in range(0, len(queued), batch_size)),
        *(fresh[i : i + batch_size] for i in range(0, len(fresh), batch_size)),
    ]
    return drafts, batches, min(filter(None, [queued_until, fresh_until]), default=None)


def note_chunk_failure(*, chunk_id: int, error: str) -> bool:
    """Count a run of this chunk that raised; after SEND_MAX_ATTEMPTS of them, give up on
    it, so that the campaign can finish. Returns True when it gave up.

    What is still queued in the chunk is marked failed with the error, for the marketer
    to see; what a run left in SENDING keeps that state until the next owner would have
    marked it of unknown outcome, which giving up does now.
    """
    CampaignChunk.objects.filter(pk=chunk_id, done_at__isnull=True).update(
        failures=F("failures") + 1
    )
    chunk = CampaignChunk.objects.filter(pk=chunk_id).first()
    if chunk is None or chunk.done_at or chunk.failures < settings.SEND_MAX_ATTEMPTS:
        return False
    in_chunk = chunk.messages()
    in_chunk.filter(status=Message.Status.SENDING).update(
        status=Message.Status.FAILED, error=UNKNOWN_OUTCOME
    )
    in_chunk.filter(status=Message.Status.QUEUED).update(
        status=Message.Status.FAILED, error=f"Not sent: {error}"[:255]
    )
    logger.error("Gave up on %s after %d failed runs: %s", chunk, chunk.failures, error)
    if CampaignChunk.objects.filter(pk=chunk_id, done_at__isnull=True).update(
        done_at=timezone.now(), leased_until=None
    ):
        dispatch(campaign_id=chunk.campaign_id)
    return True


def _hours(campaign: Campaign) -> SendHours | None:
    """The sending hours this campaign's recipients wait for; None when nobody waits."""
    if campaign.channel != Channel.SMS or campaign.hours_overridden_at:
        return None
    return SendHours(country_rules(), judged_at())


def _due_now(hours: SendHours | None, rows: Iterable[tuple[T, str, str]]):
    """Of these (item, country, number) rows, the items that may go now, those that must
    wait, and when the first of those may go: a recipient outside their country's
    sending hours waits for them, never dropped."""
    due: list[T] = []
    waiting: list[T] = []
    held_until = None
    for item, country, to in rows:
        opens = hours.opens_at(country, to) if hours else None
        if opens is None:
            due.append(item)
            continue
        waiting.append(item)
        if held_until is None or opens < held_until:
            held_until = opens
    return due, waiting, held_until


def _still_sending(campaign: Campaign, lease: _Lease, in_chunk, park) -> bool:
    """Checked before each batch: a pause or cancel takes effect within one batch. What
    the run had yet to send is written queued first (``park``), while the chunk is still
    this worker's; a chunk taken over by another worker is left to that one's run."""
    status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()
    if not lease.renew():
        return False
    if status == Campaign.Status.SENDING:
        return True
    park()
    if status == Campaign.Status.CANCELLED:
        cancel_queued(in_chunk)
        lease.finish()
    else:
        lease.release()  # paused: resume hands the chunk out again
    return False


def cancel_queued(messages) -> None:
    """Messages of a cancelled campaign that were still queued: never sent. An address
    that opted out meanwhile reads as skipped, as it would have been."""
    queued = messages.filter(status=Message.Status.QUEUED)
    only_suppressed(queued, address_field="to").update(status=Message.Status.SKIPPED)
    queued.update(status=Message.Status.CANCELLED)


def _rate(campaign: Campaign) -> int:
    company = campaign.company
    if campaign.channel == Channel.EMAIL:
        return company.emails_per_second or settings.SEND_EMAIL_RATE_PER_SECOND
    return company.sms_per_second or settings.SEND_RATE_PER_SECOND


def _throttle(campaign: Campaign, n: int, rate: int) -> float:
    # A limit per channel: SMS and email go through different services with their own.
    key = f"{campaign.channel}:{campaign.company_id}"
    try:
        return throttle.acquire(key, n, rate, max_wait=MAX_THROTTLE_WAIT)
    except redis.RedisError as exc:
        logger.warning("Rate limiter unavailable (%s); chunk put back", exc)
        return 5.0


def _send_batch(campaign: Campaign, claimed: list[Outgoing], *, last_attempt: bool) -> str:
    """Hand off and record one claimed batch; returns why some must be tried again, if so."""
    _note_reply_routes(campaign, claimed)
    outcome = hand_off(claimed)
    retry = Message.objects.filter(pk__any=outcome.retry, status=Message.Status.SENDING)
    if outcome.retry and not last_attempt:
        # Not taken by the gateway: back in the queue, for the retried task.
        retry.update(status=Message.Status.QUEUED)
        return outcome.retry_reason
    if outcome.retry:
        retry.update(status=Message.Status.FAILED, error=outcome.retry_reason[:255])
    return ""


def _note_reply_routes(campaign: Campaign, messages: list[Outgoing]) -> None:
    """Before the hand-off, so a STOP to any message that went out finds its company."""
    note_reply_routes(
        company=campaign.company,
        campaign_id=campaign.pk,
        routes=[(m.optout_shortcode, m.to) for m in messages if m.optout_shortcode],
    )


def _finish_if_done(campaign_id: int) -> None:
    if not CampaignChunk.objects.filter(campaign_id=campaign_id, done_at__isnull=True).exists():
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=timezone.now()
        )
