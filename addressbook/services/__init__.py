"""Writes of the address book, by subdomain."""

from .contacts import (
    ContactError,
    create_contact,
    delete_contact,
    set_contact_groups,
    update_contact,
)
from .fields import FieldError, create_custom_field, delete_custom_field
from .groups import (
    GroupError,
    add_to_group,
    create_group,
    delete_group,
    remove_from_group,
    rename_group,
)

__all__ = [
    "ContactError",
    "FieldError",
    "GroupError",
    "add_to_group",
    "create_contact",
    "create_custom_field",
    "create_group",
    "delete_contact",
    "delete_custom_field",
    "delete_group",
    "remove_from_group",
    "rename_group",
    "set_contact_groups",
    "update_contact",
]
