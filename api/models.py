import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from addressbook.models import Company
from addressbook.scoping import TenantManager


class ApiKey(models.Model):
    """A company's key to the REST API. Only a hash of the secret is kept.

    The key a program sends is ``oab_<prefix>_<secret>``: the prefix finds the row through
    a unique index, the SHA-256 of the whole key must then match. A key is random enough
    (160 bits) that a fast hash is safe, and fast matters: every request checks one.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, help_text="What uses this key, such as “CRM sync”.")
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    rate_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most requests per minute with this key. Empty: the platform default "
        "(API_REQUESTS_PER_MINUTE).",
    )

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (oab_{self.prefix}_…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class IdempotentRequest(models.Model):
    """The answer to a POST sent with an ``Idempotency-Key``, replayed when it comes again.

    The row is written before the work starts (``status_code`` empty) and completed after,
    so a second request with the same key during the first waits for nothing and does
    nothing: it is told the first is still in progress.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="idempotent_request_once")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotent_request_age_idx")]

    def __str__(self) -> str:
        return self.key


def new_endpoint_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL of the company's own systems that hears of every opt-out and opt-in.

    Deliveries go out one at a time per endpoint, oldest first: ``busy_until`` is the lease
    of the worker posting to it, so two workers never post to one endpoint at once.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500, help_text="An HTTPS URL of your own systems.")
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=64, default=new_endpoint_secret)
    # After a rotation the old secret also signs, for a while, so receivers can switch.
    previous_secret = models.CharField(max_length=64, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    sends_opt_outs = models.BooleanField(default=True)
    sends_opt_ins = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    busy_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["created_at", "id"]
        # Every opt-out asks which endpoints of its company are active: one index lookup.
        indexes = [models.Index(fields=["company", "active"], name="webhook_company_active_idx")]

    def __str__(self) -> str:
        return self.url

    @property
    def events(self) -> list[str]:
        return [
            name
            for name, wanted in (("opt_out", self.sends_opt_outs), ("opt_in", self.sends_opt_ins))
            if wanted
        ]


class WebhookDelivery(models.Model):
    """The outbox: one event for one endpoint, written with the event, sent until it lands.

    The payload is frozen when the row is written, so a retry sends the same body.
    """

    class Kind(models.TextChoices):
        OPT_OUT = "consent.opt_out", "Opt-out"
        OPT_IN = "consent.opt_in", "Opt-in"
        TEST = "test", "Test"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    # Indexed below, with the id: an endpoint's queue and its log.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.ForeignKey(
        "optout.ConsentEvent", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The tick: what is due, across endpoints.
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            # An endpoint's queue: its oldest pending delivery.
            models.Index(fields=["endpoint", "status", "id"], name="webhook_delivery_queue_idx"),
            # Its log, newest first, and the newest delivery the list of endpoints shows.
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log_idx"),
            # The tick's pruning of the log: the oldest rows only.
            models.Index(fields=["created_at"], name="webhook_delivery_age_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the endpoint answered, how fast, or what went wrong."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    response_snippet = models.CharField(max_length=500, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
