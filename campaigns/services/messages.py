"""A chunk's Message rows, made in bulk: the body each contact reads, with its opt-out."""

from dataclasses import dataclass
from operator import itemgetter

from django.db import connection, transaction
from django.utils import timezone

from optout.models import Suppression
from optout.selectors import reachable_for_marketing, without_suppressed
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
from .handoff import Outgoing

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
    drafts = Drafts(campaign, chunk)
    drafts.write(drafts.pending)


@dataclass(slots=True)
class Draft:
    """A contact's message, composed and not yet written: a row in the order of COLUMNS."""

    contact: dict
    row: tuple

    @property
    def country(self) -> str:
        return self.row[_COUNTRY]

    @property
    def to(self) -> str:
        return self.row[_TO]

    @property
    def reachable(self) -> bool:
        return self.row[_STATUS] == Message.Status.QUEUED


_TO, _COUNTRY, _STATUS = (COLUMNS.index(name) for name in ("to", "country", "status"))
# Where a row holds what a hand-off reads (all but the id, which the row gets on insert).
_outgoing = itemgetter(*(COLUMNS.index(name) for name in Outgoing.COLUMNS[1:]))


class Drafts:
    """The messages of a chunk's contacts who have none yet, composed in memory.

    Each is written either as it waits (``write``: queued, or skipped for who had opted
    out when it was composed) or as it goes out (``claim``: written already in SENDING,
    one write fewer than queued-then-claimed). Either way a row whose short code was
    taken meanwhile is composed again with a fresh code, and a contact whose message
    another run wrote meanwhile is left to that run.
    """

    def __init__(self, campaign: Campaign, chunk: CampaignChunk):
        self.campaign, self.chunk = campaign, chunk
        contacts = campaign_audience(campaign=campaign).filter(
            id__gt=chunk.after_id, id__lte=chunk.upto_id
        )
        existing = set(chunk.messages().values_list("contact_id", flat=True))
        reachable = set(
            reachable_for_marketing(company=campaign.company, contacts=contacts).values_list(
                "id", flat=True
            )
        )
        self.composer = _Composer(campaign)
        self.pending = [
            self._draft(contact, contact["id"] in reachable)
            for contact in contacts.values(*CONTACT_FIELDS)
            if contact["id"] not in existing
        ]

    def _draft(self, contact: dict, reachable: bool) -> Draft:
        return Draft(contact, self.composer.row(contact, reachable))

    def write(self, drafts: list[Draft]) -> None:
        self._insert(drafts, claim=False)

    def claim(self, drafts: list[Draft]) -> list[Outgoing]:
        """Write the reachable ones already claimed for the hand-off, and return them.

        The claim re-checks the suppression list in the very statement that writes the
        row, so an opt-out committed before it always wins: such a row is written
        skipped. Where the database cannot say which rows one statement wrote (SQLite),
        the rows are written queued and claimed as queued ones are.
        """
        drafts = [d for d in drafts if d.reachable]
        if connection.vendor != "postgresql":
            written = self._insert(drafts, claim=False)
            return claim_queued([pk for pk, _ in written.values()], self.campaign)
        written = self._insert(drafts, claim=True)
        claimed = []
        for draft in drafts:
            pk, status = written.get(draft.contact["id"], (None, None))
            if status == Message.Status.SENDING:
                claimed.append(
                    Outgoing(
                        pk, *_outgoing(draft.row), campaign=self.campaign, contact_row=draft.contact
                    )
                )
        return claimed

    def _insert(self, drafts: list[Draft], *, claim: bool) -> dict[int, tuple[int, str]]:
        """Write the drafts; returns the id and status each written one got, by contact."""
        written: dict[int, tuple[int, str]] = {}
        for _attempt in range(5):
            if not drafts:
                return written
            made = _insert([d.row for d in drafts], claim=claim)
            written.update(made)
            missing = [d for d in drafts if d.contact["id"] not in made]
            if not missing:
                return written  # the usual case
            # Written by another run meanwhile (its own to send), or a short code taken:
            # those are composed again with a fresh code.
            theirs = set(
                self.chunk.messages()
                .filter(contact_id__in=[d.contact["id"] for d in missing])
                .values_list("contact_id", flat=True)
            )
            drafts = [
                self._draft(d.contact, d.reachable)
                for d in missing
                if d.contact["id"] not in theirs
            ]
        if drafts:
            raise RuntimeError(
                f"Could not create messages for {len(drafts)} contacts of {self.chunk}"
            )
        return written


def claim_queued(ids: list[int], campaign: Campaign) -> list[Outgoing]:
    """Move these queued, still-reachable messages to SENDING and return them.

    The suppression re-check and the state change are one UPDATE, so an opt-out
    committed before it always wins (an opt-out suppresses the person's other addresses
    too, so checking the address the message goes to is enough); the chunk's lease
    makes every SENDING row ours.
    """
    queued = Message.objects.filter(pk__any=ids, status=Message.Status.QUEUED)
    without_suppressed(queued, address_field="to").update(status=Message.Status.SENDING)
    claimed = Message.objects.filter(pk__any=ids, status=Message.Status.SENDING).order_by("id")
    return [
        Outgoing(*values, campaign=campaign) for values in claimed.values_list(*Outgoing.COLUMNS)
    ]


def _insert(rows: list[tuple], *, claim: bool) -> dict[int, tuple[int, str]]:
    """Insert rows, dropping any that break a unique constraint; returns the id and
    status of each inserted one, by contact.

    On PostgreSQL through COPY into a scratch table, then one INSERT ... ON CONFLICT DO
    NOTHING: measured, building model instances for bulk_create cost more than the
    database's own work. With ``claim``, that INSERT writes each row SENDING, or
    SKIPPED where its address is suppressed by then.
    """
    if connection.vendor != "postgresql":
        Message.objects.bulk_create(
            [Message(**dict(zip(COLUMNS, row, strict=True))) for row in rows],
            ignore_conflicts=True,
        )
        made = Message.objects.filter(
            campaign_id=rows[0][COLUMNS.index("campaign_id")],
            contact_id__in=[row[COLUMNS.index("contact_id")] for row in rows],
        )
        return {
            contact: (pk, status)
            for pk, contact, status in made.values_list("id", "contact_id", "status")
        }
    table = Message._meta.db_table
    names = [f'"{Message._meta.get_field(c).column}"' for c in COLUMNS]
    columns = ", ".join(names)
    chosen = list(names)
    if claim:
        suppression = Suppression._meta.db_table
        chosen[_STATUS] = (
            f"CASE WHEN EXISTS (SELECT 1 FROM {suppression} s WHERE s.company_id = "
            f"n.company_id AND s.address = n.\"to\") THEN '{Message.Status.SKIPPED}' "
            f"ELSE '{Message.Status.SENDING}' END"
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS new_messages ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY new_messages ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {', '.join(chosen)} FROM new_messages n "
            "ON CONFLICT DO NOTHING RETURNING contact_id, id, status"
        )
        return {contact: (pk, status) for contact, pk, status in cursor.fetchall()}


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
