from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from django import forms
from django.utils import timezone

from addressbook.addresses import InvalidAddress
from addressbook.models import Company

from .consent import Proof
from .imports import MAX_LINES
from .models import PROOF_METHODS, Source, Suppression
from .proofs import MAX_DOCUMENT_BYTES, DocumentRefused, read_document
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
    reason = forms.ChoiceField(
        required=False,
        choices=[("", "Opted out or undeliverable"), *Suppression.Reason.choices],
        label="Why",
    )
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
            "reason": data["reason"],
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


EARLIEST_CONSENT = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))


class RecordConsentForm(forms.Form):
    """How a suppressed person consented again: the proof their opt-in will carry."""

    method = forms.ChoiceField(
        label="How they consented",
        choices=[(m.value, m.label) for m in PROOF_METHODS],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how the person consented."},
    )
    given_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the company's time zone.",
        error_messages={"required": "Give the date and time the person consented."},
    )
    wording = forms.CharField(
        label="The wording they agreed to",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Exactly what the form, the paper or the call told them they would get, "
        "e.g. “Yes, send me offers from Acme by SMS and email. I can stop at any time.”",
        error_messages={
            "required": "Give the wording the person agreed to: it is what the consent means."
        },
    )
    document = forms.FileField(
        label="Document (optional)",
        required=False,
        help_text="The signed form, a scan or a photo: a PDF, PNG or JPEG up to 5 MB.",
    )

    def clean_given_at(self) -> datetime:
        given = self.cleaned_data["given_at"]
        if given > timezone.now():
            raise forms.ValidationError("Consent cannot have been given in the future.")
        if given < EARLIEST_CONSENT:
            raise forms.ValidationError("Give the date the person consented, after 2000.")
        return given

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if not upload:
            return None
        if upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(
                f"The document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB."
            )
        try:
            return read_document(upload.read())
        except DocumentRefused as exc:
            raise forms.ValidationError(str(exc)) from None

    def proof(self) -> Proof:
        data = self.cleaned_data
        return Proof(
            method=data["method"],
            given_at=data["given_at"],
            wording=data["wording"],
            document=data["document"],
        )


class DoubleOptinForm(forms.Form):
    asked = forms.BooleanField(
        label="The person asked to get our marketing again",
        error_messages={
            "required": "Tick that the person asked to come back: a message to someone "
            "who opted out and did not ask would itself be marketing."
        },
    )
