import re

from django import forms

from .models import Channel
from .personalize import PLACEHOLDERS, BodyError, compile_body

_PLACEHOLDER_HELP = (
    "Placeholders: "
    + ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS)
    + ', with a fallback if empty: {{ first_name|default:"there" }}.'
)
_ALPHANUMERIC_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
_NUMERIC_SENDER = re.compile(r"^\+?[0-9]{1,16}$")


def _template(value: str, custom_keys: list[str], *, html: bool = False) -> str:
    try:
        compile_body(value, html=html, custom_keys=custom_keys)
    except BodyError as exc:
        raise forms.ValidationError(str(exc)) from exc
    return value


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    channel = forms.ChoiceField(
        choices=Channel.choices, initial=Channel.SMS, widget=forms.RadioSelect
    )
    sender = forms.CharField(
        max_length=254,
        required=False,
        help_text="SMS: up to 11 letters and digits, or a number. Email: a From address. "
        "Empty: your company's default.",
    )
    subject = forms.CharField(max_length=255, required=False, help_text="Email only.")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
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

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_keys = list(company.custom_fields.values_list("key", flat=True))
        if self.custom_keys:
            custom = ", ".join(f"{{{{ {k} }}}}" for k in self.custom_keys)
            self.fields["body"].help_text += f" Your fields: {custom}."

    def clean_body(self) -> str:
        return _template(self.cleaned_data["body"], self.custom_keys)

    def clean_subject(self) -> str:
        return _template(self.cleaned_data["subject"], self.custom_keys)

    def clean_html_body(self) -> str:
        return _template(self.cleaned_data["html_body"], self.custom_keys, html=True)

    def clean(self) -> dict:
        data = super().clean()
        sender = data.get("sender", "").strip()
        if data.get("channel") == Channel.EMAIL:
            if not data.get("subject"):
                self.add_error("subject", "An email needs a subject.")
            if sender:
                try:
                    forms.EmailField().clean(sender)
                except forms.ValidationError:
                    self.add_error("sender", "Enter an email address to send from.")
        elif sender and not (_ALPHANUMERIC_SENDER.match(sender) or _NUMERIC_SENDER.match(sender)):
            self.add_error(
                "sender", "An SMS sender is up to 11 letters and digits, or a number of up to 16."
            )
        return data
