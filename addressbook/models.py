import re
import zoneinfo
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .scoping import TenantManager


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as Europe/Amsterdam.")


def validate_region(value: str) -> None:
    if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"“{value}” is not a two-letter country code such as NL or FR.")


# What gateways accept as the sender of an SMS: up to 11 letters, digits and spaces, or a
# number of up to 16 digits.
SMS_SENDER = re.compile(r"^(?:[A-Za-z0-9 ]{1,11}|\+?[0-9]{1,16})$")


def validate_sms_sender(value: str) -> None:
    if not SMS_SENDER.match(value):
        raise ValidationError(
            "An SMS sender is up to 11 letters, digits and spaces, or a number of up to 16 digits."
        )


# A host name of two labels or more, lower case (as stored): example.com, mail.example.co.uk.
SENDER_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def validate_sender_domain(value: str) -> None:
    if not SENDER_DOMAIN.match(value):
        raise ValidationError(
            "A sender domain is a domain name such as example.com, in lower case, without @."
        )


def is_in_domain(address: str, domain: str) -> bool:
    """Whether the email ``address`` is at exactly ``domain`` (not a look-alike or parent)."""
    return address.rpartition("@")[2].lower() == domain.lower()


class Company(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    default_country = models.CharField(
        max_length=2,
        default="NL",
        validators=[validate_region],
        help_text="ISO 3166 region used to read phone numbers written without a prefix.",
    )
    sms_sender = models.CharField(
        max_length=16,
        blank=True,
        validators=[validate_sms_sender],
        help_text="Alphanumeric sender ID (up to 11 characters) or a number.",
    )
    timezone = models.CharField(
        max_length=64,
        default="Europe/Amsterdam",
        validators=[validate_timezone],
        help_text="IANA time zone in which the company schedules its campaigns.",
    )
    sms_per_second = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most SMS per second handed to the gateway for this company, across all "
        "workers. Empty: the platform default (SEND_RATE_PER_SECOND).",
    )
    emails_per_second = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most marketing emails per second handed to the email service for this "
        "company, across all workers. Empty: the platform default (SEND_EMAIL_RATE_PER_SECOND).",
    )
    email_sender_domain = models.CharField(
        max_length=253,
        blank=True,
        validators=[validate_sender_domain],
        help_text="The domain the company's marketing email is sent from (set up with the "
        "email service: SPF, DKIM). Empty: the platform's address.",
    )
    email_from = models.EmailField(
        "email From address",
        blank=True,
        help_text="The From address of marketing email; its domain must be the sender domain. "
        "Empty: the platform's (DEFAULT_FROM_EMAIL).",
    )
    help_contact = models.CharField(
        max_length=100,
        blank=True,
        help_text="Where recipients get help, named in HELP replies (phone, email or site).",
    )
    sms_max_parts = models.PositiveSmallIntegerField(
        "most SMS parts per message",
        default=8,
        # 8 is the most CM.com joins into one message; a longer body would not arrive whole.
        validators=[MinValueValidator(1), MaxValueValidator(8)],
        help_text="A marketing SMS longer than this, with its opt-out text, is not saved: "
        "each part is paid for.",
    )
    optout_alarm_percent = models.DecimalField(
        "opt-out alarm (%)",
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("99.99"))],
        help_text="A sending campaign pauses itself when this share of the messages it has "
        "sent has led to opt-outs. Empty: never.",
    )
    optout_alarm_minimum = models.PositiveIntegerField(
        "opt-out alarm after",
        default=200,
        validators=[MinValueValidator(1)],
        help_text="Messages a campaign must have sent before the alarm can go off, so two "
        "early opt-outs do not stop it.",
    )
    retention_days = models.PositiveSmallIntegerField(
        "keep message texts for (days)",
        default=180,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Bodies of sent messages and texts of replies older than this are blanked; "
        "counts and the consent record stay.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name

    @property
    def default_sender(self) -> str:
        return self.sms_sender or self.name[:11]

    def clean(self) -> None:
        super().clean()
        if self.email_from and not self.email_sender_domain:
            raise ValidationError(
                {"email_from": "Set the sender domain first: the From address must be in it."}
            )
        if self.email_from and not is_in_domain(self.email_from, self.email_sender_domain):
            raise ValidationError(
                {"email_from": f"The From address must end in @{self.email_sender_domain}."}
            )


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MARKETER = "marketer", "Marketer"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MARKETER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="membership_user_company_uq")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"

    def has_role(self, minimum: str) -> bool:
        """Owner ⊇ marketer ⊇ viewer: does this member's role include ``minimum``?"""
        return ROLE_RANK[self.role] >= ROLE_RANK[minimum]


# What each role may do: a viewer reads everything and changes nothing; a marketer works
# the contacts, imports, campaigns and replies; an owner also runs the company itself
# (its settings, members, API keys and webhooks).
ROLE_RANK = {Membership.Role.VIEWER: 0, Membership.Role.MARKETER: 1, Membership.Role.OWNER: 2}


class Invitation(models.Model):
    """A colleague invited by email: the signed link in the email names this row.

    The row makes the link revocable and good for one use; the signature (with its
    max_age) makes it unguessable and lets it expire.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(
        max_length=16, choices=Membership.Role.choices, default=Membership.Role.MARKETER
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} → {self.company} ({self.get_role_display()})"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class AuditEvent(models.Model):
    """Who did what in a company's dashboard, when and from where. Append-only."""

    class Action(models.TextChoices):
        IMPORT_STARTED = "import.started", "Import started"
        CAMPAIGN_SENT = "campaign.sent", "Campaign sent"
        CAMPAIGN_TEST_SENT = "campaign.test_sent", "Campaign sent as a test"
        CAMPAIGN_SCHEDULED = "campaign.scheduled", "Campaign scheduled"
        CAMPAIGN_UNSCHEDULED = "campaign.unscheduled", "Campaign schedule cancelled"
        CAMPAIGN_CANCELLED = "campaign.cancelled", "Campaign cancelled"
        OPTOUT_RECORDED = "optout.recorded", "Opt-out recorded by hand"
        MEMBER_INVITED = "member.invited", "Member invited"
        INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
        MEMBER_JOINED = "member.joined", "Member joined"
        MEMBER_REMOVED = "member.removed", "Member removed"
        ROLE_CHANGED = "member.role_changed", "Role changed"
        COMPANY_CHANGED = "company.changed", "Company settings changed"
        API_KEY_CREATED = "api_key.created", "API key created"
        API_KEY_REVOKED = "api_key.revoked", "API key revoked"
        WEBHOOK_ADDED = "webhook.added", "Webhook endpoint added"
        WEBHOOK_CHANGED = "webhook.changed", "Webhook endpoint changed"
        WEBHOOK_REMOVED = "webhook.removed", "Webhook endpoint removed"
        WEBHOOK_DISABLED = "webhook.disabled", "Webhook endpoint disabled after failures"
        CAMPAIGN_ALARM = "campaign.alarm", "Campaign paused by the opt-out alarm"
        CAMPAIGN_PAUSED = "campaign.paused", "Campaign paused"
        CAMPAIGN_RESUMED = "campaign.resumed", "Campaign resumed"
        CAMPAIGN_HOURS_OVERRIDDEN = (
            "campaign.hours_overridden",
            "Campaign's held messages sent outside sending hours",
        )
        SUPPRESSIONS_IMPORTED = "suppressions.imported", "Opt-out list uploaded"
        PERSON_ERASED = "person.erased", "Person erased"
        PERSON_EXPORTED = "person.exported", "Person's data exported"
        CONSENT_RECORDED = "consent.recorded", "Consent recorded: address brought back"
        OPTIN_REQUESTED = "optin.requested", "Double opt-in requested"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="audit_events")
    # Kept when the user is deleted: the target and details still say what happened.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    target = models.CharField(max_length=255, blank=True, help_text="What it was done to")
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # The audit page: one company's events, newest first, optionally of one action.
        indexes = [
            models.Index(fields=["company", "-created_at"], name="auditevent_company_time_idx"),
            models.Index(
                fields=["company", "action", "-created_at"], name="auditevent_action_time_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.target}"

    @property
    def details_text(self) -> str:
        if {"from", "to"} <= self.details.keys():
            return f"{self.details['from']} → {self.details['to']}"
        return " · ".join(f"{k.replace('_', ' ')}: {v}" for k, v in self.details.items() if v)


class Group(models.Model):
    """A list of contacts; a contact belongs to any number of them."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="group_company_name_uq")
        ]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A company's own contact field; values live in ``Contact.custom`` under ``key``."""

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        CHOICE = "choice", "Choice"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="custom_fields")
    name = models.CharField(max_length=60)
    key = models.SlugField(
        max_length=40, help_text="Used as the placeholder, e.g. {{ city }}; letters, digits and _"
    )
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.TEXT)
    choices = models.CharField(
        max_length=500, blank=True, help_text="For a choice field: the options, comma-separated"
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        ordering = ["company", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="customfield_company_key_uq"),
            models.UniqueConstraint(fields=["company", "name"], name="customfield_company_name_uq"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def options(self) -> list[str]:
        return [c.strip() for c in self.choices.split(",") if c.strip()]


class Contact(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +31612345678")
    country = models.CharField(max_length=2, blank=True, help_text="Region of the phone number")
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    custom = models.JSONField(default=dict, blank=True, help_text="Custom field values by key")
    groups = models.ManyToManyField(Group, blank=True, related_name="contacts")
    # The import that last wrote this row: a second row of the same file for the same
    # contact is a duplicate, found without holding the file's keys in memory.
    last_import = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "phone"],
                condition=~Q(phone=""),
                name="contact_company_phone_uq",
            ),
            models.UniqueConstraint(
                fields=["company", "email"],
                condition=~Q(email=""),
                name="contact_company_email_uq",
            ),
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(email=""), name="contact_has_address"
            ),
        ]
        # Sending walks a company's contacts by keyset over id.
        indexes = [
            models.Index(fields=["company", "id"], name="contact_company_id_idx"),
            # A CRM syncing through the API walks what changed: ?updated_after=, by updated_at.
            models.Index(
                fields=["company", "updated_at", "id"], name="contact_company_updated_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.phone or self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def addresses(self) -> list[str]:
        return [a for a in (self.phone, self.email) if a]


class ImportJob(models.Model):
    """One uploaded file on its way into the address book, and what became of its rows."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        UPDATE = "update", "Update existing contacts"
        SKIP = "skip", "Skip existing contacts"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    path = models.CharField(max_length=500, help_text="Where the uploaded file is kept")
    size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    # {"0": "phone", "1": "first_name", "3": "custom:city"}: column index → field
    mapping = models.JSONField(default=dict, blank=True)
    default_country = models.CharField(max_length=2, blank=True)
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.UPDATE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="Counted at start")
    rows_done = models.PositiveIntegerField(default=0, help_text="Data rows read and written")
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moves with every batch; a running job whose heartbeat stopped was interrupted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, 100 * self.rows_done // self.rows_total) if self.rows_total else 0


class ImportRange(models.Model):
    """A stretch of an import's file, rows ``first_row`` to ``last_row``, read by one task.

    Its rows are written in batches, each committed with ``rows_done``, so a task that
    dies is resumed where its last batch ended; tasks of several ranges run side by side.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="ranges")
    number = models.PositiveIntegerField()
    first_row = models.PositiveIntegerField(help_text="Data row number (1 = first row)")
    last_row = models.PositiveIntegerField()
    # Where its first row starts and the next range's does, in bytes; null in an encoding
    # that cannot be read from the middle (UTF-16): then its rows are counted to.
    start_offset = models.BigIntegerField(null=True, blank=True)
    end_offset = models.BigIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0, help_text="Rows of the range written")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="importrange_job_number_uq")
        ]

    def __str__(self) -> str:
        return f"rows {self.first_row}–{self.last_row}"

    @property
    def size(self) -> int:
        return self.last_row - self.first_row + 1


class ImportRejection(models.Model):
    """A row an import could not take, with the reason, for the marketer to fix."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row = models.PositiveIntegerField(help_text="Data row number in the file (1 = first row)")
    reason = models.CharField(max_length=255)
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["job", "row"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row"], name="importrejection_job_row_uq")
        ]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"
