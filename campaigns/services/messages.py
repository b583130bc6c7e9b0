"""A chunk's Message rows, made in bulk: the body each contact reads, with its opt-out."""

from django.db import connection, transaction
from django.utils import timezone

from optout.selectors import reachable_for_marketing
from optout.texts import optout_texts

from ..models import Campaign, CampaignChunk, Channel, Message
from ..personalize import (
    CONTACT_FIELDS,
    compile_body,
    compose_email_text,
    compose_sms,
    new_short_code,
    placeholder_values,
    render,
    short_link,
    unsubscribe_link,
)
from ..selectors import campaign_audience

SUBJECT_LENGTH = Message._meta.get_field("subject").max_length
# Every column a new message is written with (the rest keep their defaults: none).
COLUMNS = (
    "company_id",
    "campaign_id",
    "contact_id",
    "kind",
    "channel",
    "to",
    "country",
    "sender",
    "subject",
    "body",
    "short_code",
    "optout_shortcode",
    "status",
    "error",
    "gateway_reference",
    "created_at",
)


def create_messages(campaign: Campaign, chunk: CampaignChunk) -> None:
    """One Message per contact of the chunk: queued if reachable, skipped if opted out.

    Safe to run again: contacts that have their message already are left out, and the
    unique (campaign, contact) constraint drops any a concurrent run made meanwhile.
    """
    contacts = campaign_audience(campaign=campaign).filter(
        id__gt=chunk.after_id, id__lte=chunk.upto_id
    )
    in_chunk = chunk.messages()
    existing = set(in_chunk.values_list("contact_id", flat=True))
    reachable = set(
        reachable_for_marketing(company=campaign.company, contacts=contacts).values_list(
            "id", flat=True
        )
    )
    composer = _Composer(campaign)
    todo = [row for row in contacts.values(*CONTACT_FIELDS) if row["id"] not in existing]
    # A short code may collide with one already issued; such rows are dropped on insert
    # and made again with a fresh code on the next pass.
    for _attempt in range(5):
        if not todo:
            return
        _insert([composer.row(contact, contact["id"] in reachable) for contact in todo])
        if in_chunk.count() == len(existing) + len(todo):
            return  # all made: the usual case, told by one count
        made = set(
            in_chunk.filter(contact_id__in=[c["id"] for c in todo]).values_list(
                "contact_id", flat=True
            )
        )
        todo = [contact for contact in todo if contact["id"] not in made]
    raise RuntimeError(f"Could not create messages for {len(todo)} contacts of {chunk}")


def _insert(rows: list[tuple]) -> None:
    """Insert rows, dropping any that break a unique constraint.

    On PostgreSQL through COPY into a scratch table, then one INSERT ... ON CONFLICT DO
    NOTHING: measured, building model instances for bulk_create cost more than the
    database's own work.
    """
    if connection.vendor != "postgresql":
        Message.objects.bulk_create(
            [Message(**dict(zip(COLUMNS, row, strict=True))) for row in rows],
            ignore_conflicts=True,
        )
        return
    table = Message._meta.db_table
    columns = ", ".join(f'"{Message._meta.get_field(c).column}"' for c in COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS new_messages ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY new_messages ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM new_messages "
            "ON CONFLICT DO NOTHING"
        )


class _Composer:
    """Makes one campaign's message rows, in the order of ``COLUMNS``."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.email = campaign.channel == Channel.EMAIL
        self.body = compile_body(campaign.body)
        self.subject = compile_body(campaign.subject) if self.email else None
        # The company's opt-out texts and the country rules, read once for the chunk.
        self.texts = None if self.email else optout_texts(company=campaign.company)
        self.now = timezone.now()

    def row(self, contact: dict, reachable: bool) -> tuple:
        subject = body = short_code = optout_shortcode = ""
        status = (Message.Status.QUEUED if reachable else Message.Status.SKIPPED).value
        if reachable:
            subject, body, short_code, optout_shortcode = self._content(contact)
        campaign = self.campaign
        return (
            campaign.company_id,
            campaign.pk,
            contact["id"],
            Message.Kind.MARKETING.value,
            campaign.channel,
            contact["email"] if self.email else contact["phone"],
            contact["country"],
            campaign.sender,
            subject,
            body,
            short_code or None,
            optout_shortcode,
            status,
            "",
            "",
            self.now,
        )

    def _content(self, contact: dict) -> tuple[str, str, str, str]:
        """Subject, body, link code and reply shortcode, as this contact gets them."""
        values = placeholder_values(contact, self.campaign.company.name)
        if self.email:
            code = new_short_code()
            # A name imported with a line break must not break the Subject header.
            subject = " ".join(render(self.subject, values).split())[:SUBJECT_LENGTH]
            body = compose_email_text(self.body, values, unsubscribe_link(code))
            return subject, body, code, ""
        # The rule's method decides: a link to make, a shortcode STOP replies go to, or both.
        footer = self.texts.footer(contact["country"])
        code = new_short_code() if footer.makes_link else ""
        text = footer.text(short_link(code) if code else "")
        return "", compose_sms(self.body, values, text), code, footer.reply_shortcode
