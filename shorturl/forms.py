from django import forms
from django.utils.translation import gettext_lazy as _


class LeaveForm(forms.Form):
    """What the landing page asks: the number (unless the country forbids it) and why."""

    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    reason = forms.ChoiceField(
        label=_("Why are you leaving? (optional)"), required=False, widget=forms.RadioSelect
    )
    reason_text = forms.CharField(
        label=_("Anything else? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, reasons: list[tuple[str, str]], one_tap: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = reasons
        if one_tap:
            del self.fields["phone"]
