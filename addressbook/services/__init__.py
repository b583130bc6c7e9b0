"""Writes of the address book, by subdomain."""

from .contacts import ContactError, create_contact, delete_contact, update_contact

__all__ = ["ContactError", "create_contact", "delete_contact", "update_contact"]
