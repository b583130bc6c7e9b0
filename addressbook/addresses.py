"""Parsing and formatting of the two kinds of address a contact has: phone and email."""

import re
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "the country code is not valid",
    phonenumbers.ValidationResult.TOO_SHORT: "it is too short",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "it is too short",
    phonenumbers.ValidationResult.TOO_LONG: "it is too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
}


class InvalidAddress(ValueError):
    """Raised with a message a person can act on."""


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    region: str


def parse_phone(raw: str, default_region: str) -> Phone:
    """Read a number typed in any usual format; national ones use ``default_region``."""
    text = (raw or "").strip()
    if not text:
        raise InvalidAddress("Enter a phone number.")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise InvalidAddress(
                f"“{raw}” has no valid country code; write it as +<country code> <number>."
            ) from exc
        raise InvalidAddress(f"“{raw}” is not a phone number.") from exc
    # is_valid_number, with the region it looks up kept: for a calling code several
    # countries share (+1, +44) finding it means trying their patterns one by one.
    region = phonenumbers.region_code_for_number(number)
    if not phonenumbers.is_valid_number_for_region(number, region):
        reason = _REASONS.get(
            phonenumbers.is_possible_number_with_reason(number),
            "no number in that country has these digits; check for a missing or extra one",
        )
        raise InvalidAddress(
            f"“{raw}” is not a valid {region or default_region} phone number: {reason}."
        )
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region=region,
    )


def parse_inbound_phone(raw: str) -> Phone:
    """Numbers from a gateway come in international form, with or without + or 00."""
    text = (raw or "").strip()
    if text and text[0].isdigit() and not text.startswith("00"):
        text = "+" + text
    return parse_phone(text, default_region="")


# The usual shape of an address, a strict part of what validate_email accepts: plain ASCII
# dot-atoms, domain labels that neither start nor end with a hyphen, a top-level domain of
# letters. Matching it is a fraction of validate_email's cost; anything else is left to
# validate_email, so both accept and reject exactly the same addresses.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    re.ASCII | re.IGNORECASE,
)


def normalize_email(raw: str) -> str:
    text = (raw or "").strip()
    if not (len(text) <= 320 and _PLAIN_EMAIL.fullmatch(text)):
        try:
            validate_email(text)
        except ValidationError as exc:
            raise InvalidAddress(f"“{raw}” is not a valid email address.") from exc
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def is_email(address: str) -> bool:
    return "@" in address


def mask_phone(e164: str) -> str:
    """``+31612345678`` → ``+31 6 •••• 5678``: enough to recognise, too little to harvest.

    Anything that is no phone number (an email address) is masked whole."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return "••••"
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} {national[:1]} •••• {national[-4:]}"


def format_phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def country_of(address: str) -> str:
    """The ISO region an E.164 number belongs to; "" for an email or what is no number."""
    if not address.startswith("+"):
        return ""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(address)) or ""
    except phonenumbers.NumberParseException:
        return ""
