from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from django import forms

from addressbook.addresses import InvalidAddress
from addressbook.models import Company

from .imports import MAX_LINES
from .models import Source
from .selectors import parse_address

CHANNELS = [("", "Any channel"), ("sms", "SMS"), ("email", "Email")]


class SuppressionFilterForm(forms.Form):
    """The suppression list's search and filters, read from the query string."""

    q = forms.CharField(
        required=False,
        max_length=254,
        label="Search",
        help_text="A number in any format, an email address, or part of one",
    )
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *Source.choices])
    channel = forms.ChoiceField(required=False, choices=CHANNELS)
    campaign = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    country = forms.CharField(
        required=False,
        max_length=2,
        widget=forms.TextInput(attrs={"placeholder": "NL", "size": 3, "autocomplete": "off"}),
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, company: Company, campaigns: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.fields["campaign"].choices = [("", "Any campaign"), *campaigns]

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and country not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(f"“{country}” is not a country code such as NL or FR.")
        return country

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The start date is after the end date.")
        return data

    def criteria(self) -> dict:
        """Keyword arguments of ``suppressions_matching``: dates as moments of the company's
        day (the end date included), a whole address exact, anything else a part."""
        data, zone = self.cleaned_data, ZoneInfo(self.company.timezone)
        criteria = {
            "source": data["source"],
            "channel": data["channel"],
            "campaign_id": data["campaign"],
            "country": data["country"],
        }
        if data["since"]:
            criteria["since"] = datetime.combine(data["since"], time(), zone)
        if data["until"]:
            criteria["until"] = datetime.combine(data["until"] + timedelta(days=1), time(), zone)
        if text := data["q"].strip():
            try:
                criteria["address"] = parse_address(text, company=self.company)
            except InvalidAddress:
                criteria["query"] = text
        return criteria


class AddOptoutsForm(forms.Form):
    addresses = forms.CharField(
        max_length=MAX_LINES * 260,
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
        help_text=f"One phone number or email address per line, up to {MAX_LINES}.",
    )


class UploadOptoutsForm(forms.Form):
    file = forms.FileField(
        help_text="CSV with a column named phone, email or address (a reason column is kept "
        "too), or one column of addresses."
    )


class CompanyAddOptoutsForm(AddOptoutsForm):
    """Staff's: the same, for a company they choose."""

    company = forms.ModelChoiceField(queryset=Company.objects.order_by("name"))
    field_order = ["company", "addresses"]


class CompanyUploadOptoutsForm(UploadOptoutsForm):
    company = forms.ModelChoiceField(queryset=Company.objects.order_by("name"))
    field_order = ["company", "file"]


class AssignReplyForm(forms.Form):
    company = forms.ModelChoiceField(
        queryset=Company.objects.order_by("name"),
        help_text="The reply is then handled as a reply to this company: a STOP opts the "
        "sender out of its marketing and is confirmed to them.",
    )
