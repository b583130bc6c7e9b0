import zoneinfo

from django import forms
from django.utils import timezone

from addressbook.models import Company
from addressbook.selectors import countries_of, groups_of

from .models import Campaign, Channel
from .personalize import PLACEHOLDERS
from .selectors import CONDITION_LOOKUPS
from .services.lifecycle import COUNTRY, MAX_CONDITIONS, draft_errors

_PLACEHOLDER_HELP = (
    "Placeholders: "
    + ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS)
    + ', with a fallback if empty: {{ first_name|default:"there" }}.'
)
CONDITION_ROWS = MAX_CONDITIONS


class CountriesField(forms.MultipleChoiceField):
    """The company's countries to tick; any ISO code is accepted, so that a saved country
    whose contacts are gone since, or a code posted by the live preview, still reads."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value) -> list[str]:
        return sorted({code.strip().upper() for code in super().to_python(value)})

    def valid_value(self, value: str) -> bool:
        return bool(COUNTRY.match(value))


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    channel = forms.ChoiceField(
        choices=Channel.choices, initial=Channel.SMS, widget=forms.RadioSelect
    )
    sender = forms.CharField(
        max_length=254,
        required=False,
        help_text="SMS: up to 11 letters, digits and spaces, or a number of up to 16 digits. "
        "Email: a From address. Empty: your company's default.",
    )
    subject = forms.CharField(max_length=255, required=False, help_text="Email only.")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_PLACEHOLDER_HELP
        + " SMS end with the opt-out text of each recipient's country; emails with a"
        " personal unsubscribe link.",
    )
    html_body = forms.CharField(
        label="HTML body",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="Email only, optional.",
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every contact.",
    )
    countries = CountriesField(required=False, help_text="None ticked: every country.")

    def __init__(self, *args, company: Company, campaign: Campaign | None = None, **kwargs):
        if campaign is not None:
            kwargs.setdefault("initial", _initial(campaign))
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.company = company
        self.custom_fields = list(company.custom_fields.all())
        self.custom_keys = [f.key for f in self.custom_fields]
        if self.custom_keys:
            custom = ", ".join(f"{{{{ {k} }}}}" for k in self.custom_keys)
            self.fields["body"].help_text += f" Your fields: {custom}."
        self.fields["sender"].widget.attrs["placeholder"] = company.default_sender
        # The live length counter beside the form says what the body costs.
        self.fields["body"].widget.attrs["aria-describedby"] = "id_body_help length"
        self.fields["groups"].queryset = groups_of(company=company)
        saved = campaign.countries if campaign else []
        self.fields["countries"].choices = [
            (c, c) for c in sorted({*countries_of(company=company), *saved})
        ]
        field_choices = [("", "—"), *((f.key, f.name) for f in self.custom_fields)]
        for i in range(CONDITION_ROWS):
            self.fields[f"condition_key_{i}"] = forms.ChoiceField(
                label=f"Condition {i + 1}: field",
                choices=field_choices,
                required=False,
                widget=forms.Select(attrs={"class": "cond-key"}),
            )
            self.fields[f"condition_op_{i}"] = forms.ChoiceField(
                label=f"Condition {i + 1}: how",
                choices=[(op, op) for op in CONDITION_LOOKUPS],
                required=False,
                widget=forms.Select(attrs={"class": "cond-op"}),
            )
            self.fields[f"condition_value_{i}"] = forms.CharField(
                label=f"Condition {i + 1}: value", max_length=200, required=False
            )

    def clean(self) -> dict:
        data = super().clean()
        data["field_conditions"] = self._conditions(data)
        # The rules of a draft are the service's, shared with the API; a field that did
        # not clean (left empty) is not checked twice.
        errors = draft_errors(
            company=self.company,
            channel=data.get("channel") or Channel.SMS,
            sender=data.get("sender", ""),
            subject=data.get("subject", ""),
            body=data.get("body", ""),
            html_body=data.get("html_body", ""),
            countries=data.get("countries") or [],
            field_conditions=data["field_conditions"],
        )
        for name, messages in errors.items():
            field = name if name in self.fields else None
            if field is None or name in self.cleaned_data:
                for message in messages:
                    self.add_error(field, message)
        return self.cleaned_data

    def _conditions(self, data: dict) -> list[dict]:
        conditions = []
        for i in range(CONDITION_ROWS):
            key = data.get(f"condition_key_{i}")
            value = (data.get(f"condition_value_{i}") or "").strip()
            if key and value:
                op = data.get(f"condition_op_{i}") or "is"
                conditions.append({"key": key, "op": op, "value": value})
            elif key:
                self.add_error(f"condition_value_{i}", "Enter the value to match.")
            elif value:
                self.add_error(f"condition_key_{i}", "Pick the field to match.")
        return conditions

    @property
    def condition_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"condition_key_{i}"], self[f"condition_op_{i}"], self[f"condition_value_{i}"])
            for i in range(CONDITION_ROWS)
        ]

    def campaign_fields(self) -> dict:
        """The cleaned form as ``create_campaign`` and ``update_campaign`` take it."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "channel": data["channel"],
            "sender": data["sender"],
            "subject": data["subject"],
            "body": data["body"],
            "html_body": data["html_body"],
            "groups": list(data["groups"]),
            "countries": data["countries"],
            "field_conditions": data["field_conditions"],
        }

    def preview_fields(self) -> dict:
        """What the live preview needs, also while some fields still have errors: the text
        as typed, and whatever of the audience did clean."""
        if not self.is_bound:
            campaign = self.campaign or Campaign()
            return {
                "channel": campaign.channel,
                "body": campaign.body,
                "subject": campaign.subject,
                "group_ids": self.initial.get("groups", []),
                "countries": campaign.countries,
                "field_conditions": campaign.field_conditions,
            }
        data = self.cleaned_data
        return {
            "channel": data.get("channel") or Channel.SMS,
            "body": self.data.get("body", ""),
            "subject": self.data.get("subject", ""),
            "group_ids": [g.pk for g in data.get("groups") or []],
            "countries": data.get("countries") or [],
            "field_conditions": data.get("field_conditions") or [],
        }

    def live_errors(self) -> list[tuple[str, str]]:
        """Errors worth showing while the marketer types: not yet "this field is required"."""
        return [
            (self.fields[name].label or name.replace("_", " ").capitalize(), error.messages[0])
            for name, errors in self.errors.as_data().items()
            if name in self.fields
            for error in errors
            if error.code != "required"
        ]


def _initial(campaign: Campaign) -> dict:
    initial = {
        "name": campaign.name,
        "channel": campaign.channel,
        "sender": campaign.sender,
        "subject": campaign.subject,
        "body": campaign.body,
        "html_body": campaign.html_body,
        "groups": list(
            campaign.groups.filter(company_id=campaign.company_id).values_list("pk", flat=True)
        )
        if campaign.pk
        else [],
        "countries": campaign.countries,
    }
    for i, condition in enumerate(campaign.field_conditions[:CONDITION_ROWS]):
        initial[f"condition_key_{i}"] = condition["key"]
        initial[f"condition_op_{i}"] = condition["op"]
        initial[f"condition_value_{i}"] = condition["value"]
    return initial


class ScheduleForm(forms.Form):
    """A local date and time in the company's time zone; a datetime-local input has none."""

    send_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(company.timezone)
        self.fields["send_at"].label = f"Send at ({company.timezone} time)"
        now = timezone.localtime(timezone.now(), self.zone)
        self.fields["send_at"].widget.attrs["min"] = now.strftime("%Y-%m-%dT%H:%M")

    def full_clean(self) -> None:
        # Django reads a naive date and time in the current time zone: make it the company's.
        with timezone.override(self.zone):
            super().full_clean()


class SendTestForm(forms.Form):
    """The addresses a draft is tried on; ``send_test_messages`` reads and checks them."""

    to = forms.CharField(
        label="Send a test to",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Up to 5 of your own phone numbers (or email addresses, for an email), "
        "one per line or separated by commas.",
    )
