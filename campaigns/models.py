from django.conf import settings
from django.db import models
from django.db.models import Q

from addressbook.models import Company, Contact, Group
from addressbook.scoping import TenantManager


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True, help_text="Email only")
    body = models.TextField(
        help_text="Placeholders such as {{ first_name }} are filled per contact."
    )
    html_body = models.TextField(blank=True, help_text="Email only; optional HTML version")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # The audience: contacts in any of these groups (all contacts when none), narrowed to
    # these countries (all when empty) and to every custom-field condition.
    groups = models.ManyToManyField(Group, blank=True, related_name="+")
    # Whether groups were picked: deleting them all later then leaves nobody, not everyone.
    limited_to_groups = models.BooleanField(default=False)
    countries = models.JSONField(default=list, blank=True, help_text="ISO 3166 regions")
    field_conditions = models.JSONField(
        default=list, blank=True, help_text='[{"key": …, "op": "is"|"contains", "value": …}]'
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why the campaign paused itself (the opt-out alarm); empty when a person paused it.
    paused_reason = models.CharField(max_length=255, blank=True)
    # Set when a person resumes after the alarm: they have seen the rate and chose to go on.
    alarm_muted = models.BooleanField(default=False)
    # Staff sent the recipients outside their sending hours anyway: who (kept as a name,
    # to outlive the account) and when. Set, the campaign waits for no hours.
    hours_overridden_at = models.DateTimeField(null=True, blank=True)
    hours_overridden_by = models.CharField(max_length=150, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    """One SMS to one recipient: what was sent, and what became of it."""

    class Kind(models.TextChoices):
        MARKETING = "marketing", "Marketing"
        TRANSACTIONAL = "transactional", "Transactional"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Handed to gateway"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped: opted out"
        CANCELLED = "cancelled", "Not sent: campaign cancelled"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="messages")
    # No index of its own: the (campaign, contact) and (campaign, status) ones lead with it.
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MARKETING)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    to = models.CharField(max_length=254, help_text="E.164 number or email, when it was sent")
    country = models.CharField(max_length=2, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    # The recipient's opt-out link: /<short_code> on the short host. NULL, not "", where
    # there is none: unique among those that have one.
    short_code = models.CharField(max_length=8, null=True, blank=True)  # noqa: DJ001
    optout_shortcode = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=255, blank=True)
    # The gateway's id of the message; for email, the email service's message id
    # (django-anymail's), by which its bounce and complaint reports find the message.
    gateway_reference = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # From the gateway's delivery report: when the phone received it.
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            # A retried chunk finds its rows already there and creates none twice.
            models.UniqueConstraint(
                fields=["campaign", "contact"],
                condition=Q(campaign__isnull=False),
                name="message_campaign_contact_uq",
            ),
            # A constraint rather than unique=True: PostgreSQL then skips the extra
            # pattern-matching index, one index less to write per message.
            models.UniqueConstraint(fields=["short_code"], name="message_short_code_uq"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="message_campaign_status_idx"),
            # The campaign page lists its messages in id order: without this, PostgreSQL
            # walks the primary key past every other campaign's messages (a second at ten
            # million messages, measured by make bench's huge part).
            models.Index(fields=["campaign", "id"], name="message_campaign_id_idx"),
            # Twilio's and Vonage's delivery reports name a message by the gateway's id;
            # only messages that have one are in it.
            models.Index(
                fields=["gateway_reference"],
                condition=~Q(gateway_reference=""),
                name="message_gateway_reference_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to} ({self.status})"


class SentTally(models.Model):
    """How many of a campaign's messages the gateway took, per hour and destination country.

    Kept as messages are handed over (one upsert per batch), so reports, insights and the
    opt-out alarm read a few rows instead of counting a million messages. "Sent" is what
    the gateway accepted; a delivery report that later says failed does not take it back.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tallies")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    hour = models.DateTimeField(help_text="The hour (UTC) the messages were handed over")
    country = models.CharField(max_length=2, blank=True)
    sent = models.PositiveIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "hour", "country"], name="senttally_campaign_hour_country_uq"
            )
        ]
        # The home page and insights: one company's sending in a period.
        indexes = [models.Index(fields=["company", "hour"], name="senttally_company_hour_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.hour:%Y-%m-%d %H}h {self.country}: {self.sent}"


class EmailFeedback(models.Model):
    """What an email service reported about a message after it took it: a bounce or a
    spam complaint. Soft bounces of an address are counted from these rows."""

    class Kind(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Bounced (permanent)"
        SOFT_BOUNCE = "soft_bounce", "Bounced (temporary)"
        COMPLAINT = "complaint", "Spam complaint"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    campaign_id = models.BigIntegerField(null=True, blank=True)
    address = models.CharField(max_length=254)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    esp = models.CharField(max_length=32, help_text="The email service that reported it")
    # The service's id of this report: one delivered twice is recorded once.
    event_id = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["esp", "event_id"],
                condition=~Q(event_id=""),
                name="emailfeedback_esp_event_uq",
            ),
            # One soft bounce counted per message, however often the service retried it.
            models.UniqueConstraint(
                fields=["message", "kind"],
                condition=Q(message__isnull=False),
                name="emailfeedback_message_kind_uq",
            ),
        ]
        indexes = [
            models.Index(
                fields=["company", "address", "received_at"], name="emailfeedback_address_idx"
            ),
            models.Index(fields=["campaign_id", "kind"], name="emailfeedback_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.address} ({self.esp})"


class CampaignChunk(models.Model):
    """A slice of the audience, (after_id, upto_id] over contact ids, sent by one task."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="chunks")
    after_id = models.BigIntegerField()
    upto_id = models.BigIntegerField()
    # Who may send this chunk, until when: the queued task it was given to, then the
    # worker running it (see campaigns.services.sending).
    lease = models.CharField(max_length=32, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    # Some recipients are outside their country's sending hours: not before then.
    not_before = models.DateTimeField(null=True, blank=True)
    # Runs that ended in an error (not a retry the engine asked for); see give_up_on_chunk.
    failures = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "after_id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "after_id"], name="chunk_campaign_after_uq")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: contacts ({self.after_id}, {self.upto_id}]"

    def messages(self) -> models.QuerySet["Message"]:
        """The campaign's messages to this chunk's contacts."""
        return Message.objects.filter(
            campaign_id=self.campaign_id,
            contact_id__gt=self.after_id,
            contact_id__lte=self.upto_id,
        )


class RateWindow(models.Model):
    """Where sending rates are kept when there is no Redis (see campaigns.throttle)."""

    key = models.CharField(max_length=64, unique=True)
    # The theoretical arrival time of the next message, in seconds since the epoch.
    next_at = models.FloatField(default=0)

    def __str__(self) -> str:
        return self.key
