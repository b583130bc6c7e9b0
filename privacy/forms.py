from django import forms


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand that this cannot be undone",
        error_messages={"required": "Tick the box to confirm the erasure."},
    )
