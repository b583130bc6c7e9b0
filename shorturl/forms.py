from django import forms

from optout.models import Reason


class ConfirmOptOutForm(forms.Form):
    phone = forms.CharField(
        label="Your mobile number",
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    reason = forms.ChoiceField(
        label="Why are you leaving? (optional)",
        choices=Reason.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    reason_text = forms.CharField(
        label="Anything else? (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
