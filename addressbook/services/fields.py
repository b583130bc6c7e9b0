import re

from django.db import IntegrityError, transaction

from ..models import Company, CustomField

# Names a custom field's key may not take: they are already placeholders.
RESERVED_KEYS = {"first_name", "last_name", "full_name", "phone", "email", "company", "country"}


class FieldError(ValueError):
    """``code`` is ``taken`` when another field has the name or key, else ``invalid``."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def create_custom_field(
    *, company: Company, name: str, key: str = "", type: str = "text", choices: str = ""
) -> CustomField:
    name = name.strip()
    key = (key or re.sub(r"[^a-z0-9]+", "_", name.casefold())).strip("_")[:40]
    if not name or not key:
        raise FieldError("Give the field a name.")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise FieldError("The key starts with a letter and has only a-z, 0-9 and _.")
    if key in RESERVED_KEYS:
        raise FieldError(f"“{key}” is a built-in field already.")
    if type == CustomField.Type.CHOICE and not [c for c in choices.split(",") if c.strip()]:
        raise FieldError("A choice field needs its options, comma-separated.")
    try:
        with transaction.atomic():
            return CustomField.objects.create(
                company=company, name=name, key=key, type=type, choices=choices.strip()
            )
    except IntegrityError as exc:
        raise FieldError(
            f"There is already a field called “{name}” or with key “{key}”.", code="taken"
        ) from exc


def delete_custom_field(*, field: CustomField) -> None:
    """The definition goes; values stay in contacts' data, unused, until overwritten."""
    field.delete()
