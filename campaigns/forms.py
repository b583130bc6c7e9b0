from django import forms

from .personalize import PLACEHOLDERS, BodyError, compile_body


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    sender = forms.CharField(
        max_length=16,
        required=False,
        help_text="Up to 11 letters and digits, or a phone number. Empty: your company's sender.",
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Placeholders: "
        + ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS)
        + ". The opt-out text of each recipient's country is added at the end.",
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        try:
            compile_body(body)
        except BodyError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return body
