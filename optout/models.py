import secrets
import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator, validate_slug
from django.db import models
from django.utils.translation import gettext_lazy as _

from addressbook.models import Company
from addressbook.scoping import TenantManager

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


class ConsentEvent(models.Model):
    """Append-only: every opt-out and opt-in, as it happened. Never updated or deleted."""

    class Kind(models.TextChoices):
        OPT_OUT = "opt_out", "Opt-out"
        OPT_IN = "opt_in", "Opt-in"

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
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
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

    @property
    def reason_label(self) -> str:
        """The reason as a person reads it; "" when none was given."""
        return reason_label(self.reason) if self.reason else ""


class Suppression(models.Model):
    """The current state: this company may not send marketing to this address."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="suppressions")
    address = models.CharField(max_length=254)
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

    country = models.CharField(max_length=2, unique=True, help_text="ISO 3166 code; ZZ = default")
    method = models.CharField(max_length=8, choices=Method.choices)
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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(method="keyword") | ~models.Q(shortcode=""),
                name="countryrule_keyword_has_shortcode",
            )
        ]

    def __str__(self) -> str:
        return f"{self.country}: {self.template}"

    def clean(self) -> None:
        names = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        unknown = names - {"shortcode", "link"}
        if unknown:
            raise ValidationError({"template": f"Unknown placeholder {{{unknown.pop()}}}."})
        needed = "link" if self.method == self.Method.LINK else "shortcode"
        if needed not in names:
            raise ValidationError(
                {"template": f"The text must contain {{{needed}}}: it is how people opt out."}
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


class GatewayWebhook(models.Model):
    """A company's own SMS gateway account: the URLs and secret its webhooks use.

    What is signed with this secret reaches only this company's messages and numbers. The
    key is in the URL, so it is random rather than the slug, which anyone can read.
    """

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(
        max_length=43,
        unique=True,
        default=new_webhook_key,
        validators=[validate_slug, MinLengthValidator(20)],
        help_text="Part of the URLs: letters, digits, - and _, at least 20 of them.",
    )
    secret = models.CharField(
        max_length=128,
        default=new_webhook_secret,
        validators=[MinLengthValidator(32)],
        help_text="Signs the gateway's requests; at least 32 characters.",
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
