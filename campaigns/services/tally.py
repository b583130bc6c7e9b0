"""The sent counters (``SentTally``): added to in the transaction that records a batch."""

from collections import Counter
from datetime import datetime

from django.db import connection

from ..models import Message, SentTally


def count_sent(messages: list[Message], *, at: datetime) -> None:
    """Add the campaign messages the gateway just took to their campaign's tally.

    One statement per batch; concurrent chunks of a campaign add to the same rows, so
    the database adds (``sent = sent + excluded.sent``) rather than this process.
    """
    counts = Counter(
        (m.company_id, m.campaign_id, m.channel, m.country) for m in messages if m.campaign_id
    )
    if not counts:
        return
    hour = at.replace(minute=0, second=0, microsecond=0)
    table = SentTally._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (company_id, campaign_id, channel, hour, country, sent) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (campaign_id, hour, country) "
            f"DO UPDATE SET sent = {table}.sent + excluded.sent",
            [
                (company_id, campaign_id, channel, hour, country, n)
                for (company_id, campaign_id, channel, country), n in sorted(counts.items())
            ],
        )
