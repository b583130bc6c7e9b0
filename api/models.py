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
