from django.conf import settings
from django.db import models
from django.db.models import Q


class Company(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    default_country = models.CharField(
        max_length=2,
        default="NL",
        help_text="ISO 3166 region used to read phone numbers written without a prefix.",
    )
    sms_sender = models.CharField(
        max_length=16,
        blank=True,
        help_text="Alphanumeric sender ID (up to 11 characters) or a number.",
    )
    help_contact = models.CharField(
        max_length=100,
        blank=True,
        help_text="Where recipients get help, named in HELP replies (phone, email or site).",
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


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MARKETER = "marketer", "Marketer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MARKETER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="membership_user_company_uq")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"


class Contact(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +31612345678")
    country = models.CharField(max_length=2, blank=True, help_text="Region of the phone number")
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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
        indexes = [models.Index(fields=["company", "id"], name="contact_company_id_idx")]

    def __str__(self) -> str:
        return self.full_name or self.phone or self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def addresses(self) -> list[str]:
        return [a for a in (self.phone, self.email) if a]
