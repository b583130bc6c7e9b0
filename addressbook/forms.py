from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator

from .models import Company, CustomField, Group
from .selectors import groups_of
from .services.company import SETTINGS_FIELDS


class ContactForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    phone = forms.CharField(
        max_length=32,
        required=False,
        help_text="Any format; numbers without a country code are read as your default country.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(max_length=254, required=False, label="Email")
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = groups_of(company=company)
        self.custom_fields = list(company.custom_fields.all())
        for field in self.custom_fields:
            self.fields[f"custom_{field.key}"] = _form_field(field)

    @property
    def custom_values(self) -> dict[str, str]:
        return {f.key: self.cleaned_data.get(f"custom_{f.key}") or "" for f in self.custom_fields}

    @property
    def custom_bound_fields(self):
        return [self[f"custom_{f.key}"] for f in self.custom_fields]


def _form_field(field: CustomField) -> forms.Field:
    label = field.name
    if field.type == CustomField.Type.CHOICE:
        return forms.ChoiceField(
            label=label, required=False, choices=[("", "—")] + [(o, o) for o in field.options]
        )
    if field.type == CustomField.Type.DATE:
        return forms.CharField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    if field.type == CustomField.Type.NUMBER:
        return forms.CharField(
            label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
        )
    return forms.CharField(label=label, required=False, max_length=500)


class GroupForm(forms.Form):
    name = forms.CharField(max_length=100)


class CustomFieldForm(forms.Form):
    name = forms.CharField(max_length=60)
    type = forms.ChoiceField(choices=CustomField.Type.choices)
    choices = forms.CharField(
        max_length=500, required=False, help_text="For a choice field: the options, comma-separated"
    )


# The sending rate is a throttle: the bound keeps a typo (100000) from handing a whole
# campaign to the gateway at once.
MAX_SMS_PER_SECOND = 1000
MAX_EMAILS_PER_SECOND = 1000


class CompanySettingsForm(forms.ModelForm):
    """What an owner may change of their company; the model's validators judge the values."""

    class Meta:
        model = Company
        fields = list(SETTINGS_FIELDS)
        labels = {
            "default_country": "Default country",
            "timezone": "Time zone",
            "sms_sender": "SMS sender",
            "help_contact": "Help contact",
            "sms_max_parts": "Most SMS parts per message",
            "optout_alarm_percent": "Opt-out alarm (%)",
            "optout_alarm_minimum": "Opt-out alarm after (messages sent)",
            "sms_per_second": "Sending rate (SMS per second)",
            "email_from": "Marketing email From address",
            "emails_per_second": "Sending rate (emails per second)",
            "retention_days": "Keep message texts for (days)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rate = self.fields["sms_per_second"]
        rate.min_value, rate.max_value = 1, MAX_SMS_PER_SECOND
        rate.validators += [
            MinValueValidator(1, "At least 1 SMS per second; leave it empty for the default."),
            MaxValueValidator(
                MAX_SMS_PER_SECOND,
                f"At most {MAX_SMS_PER_SECOND} SMS per second; leave it empty for the default.",
            ),
        ]
        rate.widget.attrs.update(min=1, max=MAX_SMS_PER_SECOND)
        default = settings.SEND_RATE_PER_SECOND
        rate.help_text = (
            "Most SMS per second handed to the gateway for your company, across every "
            "campaign. Empty: the platform's default"
            + (f" ({default} per second)." if default else " (no limit).")
        )
        email_rate = self.fields["emails_per_second"]
        email_rate.min_value, email_rate.max_value = 1, MAX_EMAILS_PER_SECOND
        email_rate.validators += [
            MinValueValidator(1, "At least 1 email per second; leave it empty for the default."),
            MaxValueValidator(
                MAX_EMAILS_PER_SECOND,
                f"At most {MAX_EMAILS_PER_SECOND} emails per second; leave it empty for the "
                "default.",
            ),
        ]
        email_rate.widget.attrs.update(min=1, max=MAX_EMAILS_PER_SECOND)
        default = settings.SEND_EMAIL_RATE_PER_SECOND
        email_rate.help_text = (
            "Most marketing emails per second handed to the email service for your company, "
            "counted apart from SMS. Empty: the platform's default"
            + (f" ({default} per second)." if default else " (no limit).")
        )
        # The domain is set up with the email service by the platform's staff (SPF, DKIM);
        # the owner picks the address in it.
        domain = self.instance.email_sender_domain
        self.fields["email_from"].help_text = (
            f"An address at {domain}, your sender domain. Empty: "
            f"{settings.DEFAULT_FROM_EMAIL}, the platform's."
            if domain
            else f"Marketing email comes from {settings.DEFAULT_FROM_EMAIL} (the platform's) "
            "until the platform's staff set up your own sender domain."
        )
        self.fields["retention_days"].widget.attrs.update(min=1, max=3650)

    def clean_default_country(self) -> str:
        return self.cleaned_data["default_country"].strip().upper()
