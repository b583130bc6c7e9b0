import secrets
import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator, validate_slug
from django.db import models
from django.utils.translation import gettext_lazy as _

from addressbook.models import Company
from addressbook.scoping import TenantManager, TenantQuerySet

from .sendhours import validate_send_hours


class Source(models.TextChoices):
    SMS_KEYWORD = "sms_keyword", "SMS keyword reply"
    SMS_REPLY = "sms_reply", "SMS reply, read by a marketer"
    LANDING_PAGE = "landing_page", "Landing page"
    EMAIL_LINK = "email_link", "Email link"
    ONE_CLICK = "one_click", "Email one-click"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    DASHBOARD = "dashboard", "Dashboard"
    IMPORT = "import", "Import"
    # The event of an address suppressed or lifted because another address of the same
    # person opted out or in: ``linked_event`` names that one.
    LINKED = "linked", "Another address of the same person"
    DOUBLE_OPT_IN = "double_opt_in", "Double opt-in confirmed"
    # A mail to the List-Unsubscribe mailto: address of one of our emails.
    MAILTO = "mailto", "Email unsubscribe request (mailto)"
    # The person marked the email as spam; the mailbox provider told the email service.
    COMPLAINT = "complaint", "Spam complaint"
    # The email service reported the address undeliverable (a hard bounce, or soft ones).
    BOUNCE = "bounce", "Email bounce"


class Reason(models.TextChoices):
    """The reasons offered when a company has set none of its own."""

    TOO_MANY = "too_many", _("Too many messages")
    NOT_RELEVANT = "not_relevant", _("Not relevant to me")
    NEVER_SIGNED_UP = "never_signed_up", _("I never signed up")
    OTHER = "other", _("Other")


NO_REASON = "No reason given"


def reason_label(reason: str) -> str:
    """What a person reads for a stored reason: a default's label, or the company's own
    reason as it was offered (stored as its text)."""
    if not reason:
        return NO_REASON
    return str(Reason(reason).label) if reason in Reason.values else reason


class LeaveReason(models.Model):
    """A reason a company offers on its landing page instead of the defaults."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="leave_reasons")
    label = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        ordering = ["company", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "label"], name="leavereason_company_label_uq"
            )
        ]

    def __str__(self) -> str:
        return self.label


class ActorType(models.TextChoices):
    """Who made a consent change."""

    PERSON = "person", "The person themself"
    USER = "user", "A user of the company"
    STAFF = "staff", "Platform staff"
    API_KEY = "api_key", "An API key"
    GATEWAY = "gateway", "A gateway or mailbox provider"
    SYSTEM = "system", "The platform"


class ConsentMethod(models.TextChoices):
    """How the consent an opt-in rests on was given."""

    WEB_FORM = "web_form", "Web form"
    PAPER = "paper", "Paper form"
    PHONE = "phone", "Phone call"
    DOUBLE_OPT_IN_SMS = "double_opt_in_sms", "Double opt-in by SMS"
    DOUBLE_OPT_IN_EMAIL = "double_opt_in_email", "Double opt-in by email"
    KEYWORD = "keyword", "Reply keyword (START)"
    LANDING_UNDO = "landing_undo", "Undo on the landing page"


# What a marketer may name as the proof when bringing an address back; the others are
# recorded by the person's own act.
PROOF_METHODS = (ConsentMethod.WEB_FORM, ConsentMethod.PAPER, ConsentMethod.PHONE)

# The only change the ledger accepts: blanking what the person wrote and where from, for an
# erasure or retention. Everything else about an event is fixed once written.
REDACTABLE_TEXT = ("reason_text", "raw_text", "user_agent")


def _ledger_protection() -> list:
    """PostgreSQL refuses UPDATE (but a redaction) and DELETE on consent events."""
    import pgtrigger

    changed = pgtrigger.Q(
        old__ip_address__df=pgtrigger.F("new__ip_address"), new__ip_address__isnull=False
    )
    for name in REDACTABLE_TEXT:
        changed |= pgtrigger.Q(**{f"old__{name}__df": pgtrigger.F(f"new__{name}")}) & ~pgtrigger.Q(
            **{f"new__{name}": ""}
        )
    return [
        pgtrigger.Protect(name="consent_event_no_delete", operation=pgtrigger.Delete),
        pgtrigger.Protect(
            name="consent_event_no_update",
            operation=pgtrigger.Update,
            condition=pgtrigger.AnyChange(exclude=[*REDACTABLE_TEXT, "ip_address"]),
        ),
        pgtrigger.Protect(
            name="consent_event_only_blanked", operation=pgtrigger.Update, condition=changed
        ),
    ]


class LedgerError(RuntimeError):
    """An attempt to change or remove a consent event."""


class ConsentEventQuerySet(TenantQuerySet):
    """The model guard where no trigger stands (SQLite): no bulk update or delete."""

    def update(self, **kwargs) -> int:
        if set(kwargs) - {*REDACTABLE_TEXT, "ip_address"} or any(kwargs.values()):
            raise LedgerError("Consent events cannot be changed, only blanked of free text.")
        return super().update(**kwargs)

    def delete(self):
        raise LedgerError("Consent events cannot be deleted.")


class ConsentEvent(models.Model):
    """Append-only: every opt-out and opt-in, as it happened. Never updated or deleted.

    PostgreSQL enforces it with triggers (raw SQL included); the model and its queryset
    refuse it everywhere else. The one change allowed is blanking the free text (reason,
    reply, browser, IP address) when a person is erased or the text outlives retention.
    """

    class Kind(models.TextChoices):
        OPT_OUT = "opt_out", "Opt-out"
        OPT_IN = "opt_in", "Opt-in"
        # Not consent: the address cannot receive mail, and later it can again. On the
        # record all the same, with who said so.
        UNDELIVERABLE = "bounced", "Undeliverable"
        DELIVERABLE = "restored", "Deliverable again"

    # The kinds that are a person's choice, which consent state and the feeds speak of.
    CONSENT_KINDS = (Kind.OPT_OUT, Kind.OPT_IN)

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="consent_events")
    address = models.CharField(max_length=254, help_text="E.164 number or email address")
    # The number's country, "" for an email: insights group by it without parsing numbers.
    country = models.CharField(max_length=2, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    # A plain id, not a foreign key: campaigns depend on optout, not the reverse, and the
    # record must stay whole even if the campaign is deleted.
    campaign_id = models.BigIntegerField(null=True, blank=True)
    # When the campaign's message the opt-out answers was sent, as known when it was
    # recorded: the time from send to opt-out is then read from the events alone.
    message_sent_at = models.DateTimeField(null=True, blank=True)
    # A default reason's code (see Reason) or the company's own reason, as offered.
    reason = models.CharField(max_length=100, blank=True)
    reason_text = models.TextField(blank=True)
    raw_text = models.TextField(blank=True, help_text="The reply as received, for keywords")
    # Who made the change: a user's or API key's id with its name as it was then, a
    # gateway's name, or the person (no id).
    # Database defaults: rows written in SQL (a bulk load, a backfill) need not name them.
    actor_type = models.CharField(
        max_length=8, choices=ActorType.choices, blank=True, db_default=""
    )
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True, db_default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, db_default="")
    wording_version = models.CharField(
        max_length=40,
        blank=True,
        db_default="",
        help_text="The version of the page or text the person saw",
    )
    linked_event = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="linked_events",
        help_text="For a linked address: the opt-out or opt-in of the person's other address",
    )
    # The proof an opt-in rests on: how, when and with what wording consent was given.
    consent_method = models.CharField(
        max_length=20, choices=ConsentMethod.choices, blank=True, db_default=""
    )
    consent_given_at = models.DateTimeField(null=True, blank=True)
    consent_wording = models.TextField(blank=True, db_default="")
    consent_document = models.FileField(upload_to="consent/%Y/%m/", blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantManager.from_queryset(ConsentEventQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        triggers = _ledger_protection()
        indexes = [
            models.Index(fields=["company", "address"], name="consent_company_address_idx"),
            models.Index(fields=["company", "campaign_id"], name="consent_company_campaign_idx"),
            # The API's event feed: one company's events in id order, after a cursor.
            models.Index(fields=["company", "id"], name="consent_company_feed_idx"),
            # Insights and the home page: one company's events in a period.
            models.Index(fields=["company", "created_at"], name="consent_company_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address} ({self.get_source_display()})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise LedgerError("Consent events cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerError("Consent events cannot be deleted.")

    @property
    def reason_label(self) -> str:
        """The reason as a person reads it; "" when none was given."""
        return reason_label(self.reason) if self.reason else ""


class Suppression(models.Model):
    """The current state: this company may not send marketing to this address."""

    class Reason(models.TextChoices):
        OPTED_OUT = "opted_out", "Opted out"
        # Mail to it bounces: no email of the company goes there, transactional included,
        # until staff mark it deliverable again.
        UNDELIVERABLE = "undeliverable", "Undeliverable"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="suppressions")
    address = models.CharField(max_length=254)
    reason = models.CharField(
        max_length=16, choices=Reason.choices, default=Reason.OPTED_OUT, db_default="opted_out"
    )
    country = models.CharField(max_length=2, blank=True, help_text="The number's; empty: email")
    event = models.ForeignKey(
        ConsentEvent,
        on_delete=models.PROTECT,
        related_name="suppressions",
        help_text="The opt-out that put this address here",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # The anti-join that filters audiences is an index-only scan on this.
        constraints = [
            models.UniqueConstraint(
                fields=["company", "address"], name="suppression_company_address_uq"
            )
        ]
        # The suppression list page: one company's, newest first, a page at a time.
        indexes = [
            models.Index(
                fields=["company", "created_at", "id"], name="suppression_company_time_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} @ {self.company}"


class CountryRule(models.Model):
    """How marketing SMS to one destination country end. ``ZZ`` is everywhere else."""

    DEFAULT_COUNTRY = "ZZ"

    class Method(models.TextChoices):
        KEYWORD = "keyword", "Reply keyword to a shortcode"
        LINK = "link", "Short link to the landing page"
        KEYWORD_AND_LINK = "keyword_link", "Reply keyword to a shortcode, and a short link"

    country = models.CharField(max_length=2, unique=True, help_text="ISO 3166 code; ZZ = default")
    method = models.CharField(max_length=12, choices=Method.choices)
    shortcode = models.CharField(max_length=16, blank=True)
    one_tap = models.BooleanField(
        default=False,
        help_text="Opt out with one tap, without typing the number: for countries whose "
        "rules forbid asking for personal data to unsubscribe (AU, CA).",
    )
    template = models.CharField(
        max_length=160,
        help_text="Text appended to marketing SMS; {shortcode} and {link} are filled in.",
    )
    send_hours = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_send_hours],
        help_text="Recipients' local hours in which marketing SMS may go, per weekday: "
        '{"mon": ["08:00", "20:00"], …, "sun": null} (null: not that day; a day left out: '
        "all day). Empty: any time. Messages outside them wait, never dropped.",
    )
    skip_public_holidays = models.BooleanField(
        default=False, help_text="No marketing SMS on the country's public holidays."
    )
    help_template = models.CharField(
        max_length=320,
        blank=True,
        help_text="The answer to HELP from this country; {company} and {contact} are filled "
        "in. Empty: the default answer, in the country's language.",
    )
    note = models.TextField(
        blank=True, help_text="Where the rule comes from, and what in it is unconfirmed."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(method__in=["keyword", "keyword_link"])
                | ~models.Q(shortcode=""),
                name="countryrule_keyword_has_shortcode",
            )
        ]

    def __str__(self) -> str:
        return f"{self.country}: {self.template}"

    def clean(self) -> None:
        def placeholders(field: str, allowed: set[str]) -> set[str]:
            try:
                names = {n for _, n, _, _ in string.Formatter().parse(getattr(self, field)) if n}
            except ValueError:
                raise ValidationError({field: "A { or } is unmatched."}) from None
            if unknown := names - allowed:
                raise ValidationError({field: f"Unknown placeholder {{{sorted(unknown)[0]}}}."})
            return names

        names = placeholders("template", {"shortcode", "link"})
        placeholders("help_template", {"company", "contact"})
        # What each method's text must name: it is how people opt out (keyword_link: STOP
        # to the shortcode and the link, both).
        needed = {
            self.Method.LINK: ["link"],
            self.Method.KEYWORD: ["shortcode"],
            self.Method.KEYWORD_AND_LINK: ["shortcode", "link"],
        }.get(self.method, [])
        if missing := [n for n in needed if n not in names]:
            wanted = " and ".join(f"{{{n}}}" for n in missing)
            raise ValidationError(
                {"template": f"The text must contain {wanted}: it is how people opt out."}
            )

    def footer(self, link: str = "") -> str:
        return self.template.format(shortcode=self.shortcode, link=link)


class Keyword(models.Model):
    """Whole-message reply words, compared after folding case, accents and punctuation."""

    class Action(models.TextChoices):
        STOP = "stop", "Opt out"
        START = "start", "Opt in"
        HELP = "help", "Help"

    # Always understood, whatever staff do to the table.
    PROTECTED = {"stop": Action.STOP, "start": Action.START, "help": Action.HELP}

    word = models.CharField(max_length=32, unique=True, help_text="Lower case, no accents")
    action = models.CharField(max_length=8, choices=Action.choices)
    language = models.CharField(
        max_length=8, blank=True, help_text="Language the confirmation is sent in"
    )
    countries = models.CharField(
        max_length=64,
        blank=True,
        help_text="Comma-separated ISO codes of the senders it counts for; empty: everywhere.",
    )

    class Meta:
        ordering = ["action", "word"]

    def __str__(self) -> str:
        return f"{self.word} → {self.action}"


class ReplyRoute(models.Model):
    """Who last sent marketing to this number through this shortcode.

    Shortcodes are shared between companies; a reply belongs to the latest sender.
    """

    shortcode = models.CharField(max_length=16)
    address = models.CharField(max_length=16)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    campaign_id = models.BigIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField()

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shortcode", "address"], name="replyroute_uq")
        ]

    def __str__(self) -> str:
        return f"{self.address} via {self.shortcode} → {self.company}"


class DedicatedNumber(models.Model):
    """A number or shortcode only one company sends from: replies to it are that company's."""

    number = models.CharField(max_length=16, unique=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="dedicated_numbers")

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.number} → {self.company}"


def new_webhook_key() -> str:
    return secrets.token_urlsafe(16)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Gateway(models.TextChoices):
    """Who posts to a company's webhooks, in which format (see optout.gateways)."""

    SIGNED = "signed", "Our own signed JSON (X-Timestamp, X-Signature)"
    CM = "cm", "CM.com"
    TWILIO = "twilio", "Twilio"
    VONAGE = "vonage", "Vonage (Nexmo) SMS API"


def validate_not_gateway_name(key: str) -> None:
    # /hooks/sms/<gateway>/inbound/ wins over /hooks/sms/<key>/inbound/: a key spelt like a
    # gateway would never be reached.
    if key.lower() in Gateway.values:
        raise ValidationError(_("A key may not be the name of a gateway."))


class VonageSignatureMethod(models.TextChoices):
    MD5HASH = "md5hash", "MD5 hash"
    MD5 = "md5", "MD5 HMAC"
    SHA1 = "sha1", "SHA-1 HMAC"
    SHA256 = "sha256", "SHA-256 HMAC"
    SHA512 = "sha512", "SHA-512 HMAC"


class GatewayWebhook(models.Model):
    """A company's own SMS gateway account: the URLs and secrets its webhooks use.

    What is signed with this account's secrets reaches only this company's messages and
    numbers. The key is in the URL, so it is random rather than the slug, which anyone can
    read.
    """

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    gateway = models.CharField(
        max_length=8,
        choices=Gateway.choices,
        default=Gateway.SIGNED,
        help_text="Which gateway posts to this account's webhooks.",
    )
    key = models.CharField(
        max_length=43,
        unique=True,
        default=new_webhook_key,
        validators=[validate_slug, MinLengthValidator(20), validate_not_gateway_name],
        help_text="Part of the URLs: letters, digits, - and _, at least 20 of them.",
    )
    secret = models.CharField(
        max_length=128,
        default=new_webhook_secret,
        validators=[MinLengthValidator(32)],
        help_text="Signs the gateway's requests (our signed format); with CM, the token "
        "its webhook URLs carry (?token=…). At least 32 characters.",
    )
    twilio_auth_token = models.CharField(
        max_length=128,
        blank=True,
        help_text="Twilio: the account's auth token, which signs X-Twilio-Signature.",
    )
    vonage_signature_secret = models.CharField(
        max_length=128,
        blank=True,
        help_text="Vonage: the account's signature secret, which signs the sig parameter.",
    )
    vonage_signature_method = models.CharField(
        max_length=8,
        choices=VonageSignatureMethod.choices,
        default=VonageSignatureMethod.SHA256,
        help_text="Vonage: the signature method set on the account's API settings.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"Gateway webhooks of {self.company}"


class InboundMessage(models.Model):
    """Every accepted reply, stored before it is acted on."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        OPTED_OUT = "opted_out", "Opted out"
        OPTED_IN = "opted_in", "Opted in"
        HELP = "help", "Help answered"
        UNMATCHED = "unmatched", "No keyword: for review"
        UNATTRIBUTED = "unattributed", "No company: for staff"
        DISMISSED = "dismissed", "Reviewed: no action"
        SUPERSEDED = "superseded", "Not applied: a later choice stands"

    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    sender = models.CharField(max_length=32, help_text="The number that replied, as received")
    sender_e164 = models.CharField(max_length=16, blank=True)
    recipient = models.CharField(max_length=32, help_text="The shortcode or number replied to")
    text = models.TextField(blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="The gateway's id")
    # Null: the platform's shared gateway account. References are unique per account.
    webhook = models.ForeignKey(
        GatewayWebhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="Hash of the signed timestamp and body: tells a replay from a new reply "
        "that has no reference",
    )
    gateway_received_at = models.CharField(max_length=40, blank=True)
    replied_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person replied, as the gateway tells it"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    # The consent change it made, if any: how long it took from receipt is read from both.
    event = models.ForeignKey(
        ConsentEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-received_at", "-id"]
        # A gateway that delivers the same reply twice gets the first one back: the same
        # reference of one gateway account, or with no reference the same signed bytes.
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                condition=~models.Q(reference="") & models.Q(webhook__isnull=True),
                name="inbound_reference_uq",
            ),
            models.UniqueConstraint(
                fields=["webhook", "reference"],
                condition=~models.Q(reference="") & models.Q(webhook__isnull=False),
                name="inbound_webhook_reference_uq",
            ),
            models.UniqueConstraint(
                fields=["digest"],
                condition=models.Q(reference="", webhook__isnull=True) & ~models.Q(digest=""),
                name="inbound_digest_uq",
            ),
            models.UniqueConstraint(
                fields=["webhook", "digest"],
                condition=models.Q(reference="", webhook__isnull=False) & ~models.Q(digest=""),
                name="inbound_webhook_digest_uq",
            ),
        ]
        indexes = [models.Index(fields=["company", "status"], name="inbound_company_status_idx")]

    def __str__(self) -> str:
        return f"{self.sender} → {self.recipient}: {self.text[:40]}"


class InboundPart(models.Model):
    """One part of a long reply the gateway delivers piece by piece (Vonage's concat).

    Kept until every part of its reply is here; then the reply is joined, stored as one
    InboundMessage and acted on once, and the parts point at it.
    """

    webhook = models.ForeignKey(
        GatewayWebhook, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    gateway = models.CharField(max_length=8, choices=Gateway.choices)
    # The gateway's id of this part: the same part delivered twice is stored once.
    part_id = models.CharField(max_length=64)
    sender = models.CharField(max_length=32)
    recipient = models.CharField(max_length=32)
    concat_ref = models.CharField(max_length=32, help_text="The reply's reference, from the phone")
    total = models.PositiveSmallIntegerField()
    number = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    gateway_received_at = models.CharField(max_length=40, blank=True)
    inbound = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "part_id"],
                condition=models.Q(webhook__isnull=True),
                name="inbound_part_uq",
            ),
            models.UniqueConstraint(
                fields=["webhook", "gateway", "part_id"],
                condition=models.Q(webhook__isnull=False),
                name="inbound_part_webhook_uq",
            ),
        ]
        indexes = [
            models.Index(
                fields=["sender", "concat_ref"],
                condition=models.Q(inbound__isnull=True),
                name="inbound_part_waiting_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Part {self.number}/{self.total} of {self.concat_ref} from {self.sender}"


class SuppressionImport(models.Model):
    """An old opt-out list a company brings from another provider, and what became of it.

    Rows go in batches, each committed with ``rows_done``: a worker that dies resumes after
    the last committed batch, and rows already on the list are never recorded twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    path = models.CharField(max_length=500, help_text="Where the uploaded file is kept")
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    # {"0": "phone", "2": "email", "3": "reason"}: column index → what it holds
    columns = models.JSONField(default=dict, blank=True)
    # The file's first line when it names the columns; empty: the first line is data.
    headers = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField(default=0, help_text="Data rows read and written")
    # {"added": 3, "already_suppressed": 1, "duplicate": 1, "invalid": 2}
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class SuppressionImportRejection(models.Model):
    """A row of an uploaded opt-out list that could not be read, with the reason."""

    upload = models.ForeignKey(
        SuppressionImport, on_delete=models.CASCADE, related_name="rejections"
    )
    row = models.PositiveIntegerField(help_text="Data row number in the file (1 = first row)")
    reason = models.CharField(max_length=255)
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["upload", "row"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "row"], name="suppressionreject_row_uq")
        ]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


class CompanyOptoutText(models.Model):
    """A company's own opt-out text, for one destination country and language or all.

    The most specific one that fits a message wins: country and language, country, language,
    then the company's text for everywhere; none, and the country rule's own text is used.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="optout_texts")
    country = models.CharField(max_length=2, blank=True, help_text="ISO code; empty: all")
    language = models.CharField(max_length=8, blank=True, help_text="Empty: all")
    template = models.CharField(
        max_length=160,
        help_text="{link}, {shortcode} and {company} are filled in; it must still carry the "
        "opt-out method its destination requires.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["company", "country", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "country", "language"], name="optouttext_company_where_uq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.country or 'all'}/{self.language or 'all'}: {self.template}"


def new_optin_token() -> str:
    return secrets.token_urlsafe(24)


class OptinRequest(models.Model):
    """A double opt-in: a confirmation sent to a suppressed address, waiting for the person.

    The address comes back only when the person confirms (the link in it, or a START reply);
    until then nothing changes.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the person"
        CONFIRMED = "confirmed", "Confirmed"
        EXPIRED = "expired", "Expired"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    token = models.CharField(max_length=40, unique=True, default=new_optin_token)
    wording = models.TextField(help_text="The confirmation as sent: what the person agrees to")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    actor_type = models.CharField(max_length=8, choices=ActorType.choices, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    event = models.ForeignKey(
        ConsentEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["company", "address"], name="optinrequest_company_addr_idx")
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_status_display()})"
