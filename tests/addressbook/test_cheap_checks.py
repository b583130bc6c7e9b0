"""The import's shortcuts (an email's usual shape, numbers already read) give exactly the
answers of the full checks."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email

from addressbook.addresses import InvalidAddress, normalize_email, parse_phone
from addressbook.services import upserts
from addressbook.services.imports import create_import, run_import

TRICKY_EMAILS = [
    "ada@example.nl",
    "ADA@Example.NL",
    "  ada@example.nl ",
    "a.b-c+tag@mail.example.co.uk",
    "o'brien@example.ie",
    "!#$%&'*+/=?^_`{|}~-@example.com",
    "a@b.cd",
    "a@b.c",
    "a@example.c0m",
    "a@example.xn--p1ai",
    "a@xn--bcher-kva.example",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@ex_ample.com",
    "a@example",
    "a@example.com.",
    "a@example..com",
    "a@localhost",
    "a@[127.0.0.1]",
    "a@[::1]",
    "a@[300.1.1.1]",
    '"a b"@example.com',
    '"a@b"@example.com',
    "a@b@example.com",
    "a b@example.com",
    "a\n@example.com",
    "zoë@example.com",
    "ada@exämple.com",
    "\u017f@example.com",  # ſ, the long s: an ASCII letter once case is folded
    "\u212a@example.com",  # the Kelvin sign, likewise
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "x" * 65 + "@example.com",
    "x" * 300 + "@example.com",
    "x" * 320 + "@e.com",
    "@example.com",
    "a@",
    "@",
    "",
    "not-an-email",
]


def _by_django_alone(raw: str) -> str | None:
    """What normalize_email answered before the shortcut: validate_email decides."""
    text = raw.strip()
    try:
        validate_email(text)
    except ValidationError:
        return None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


@pytest.mark.parametrize("raw", TRICKY_EMAILS)
def test_the_email_shortcut_accepts_and_rejects_what_validate_email_does(raw):
    try:
        got = normalize_email(raw)
    except InvalidAddress as exc:
        assert str(exc) == f"“{raw}” is not a valid email address."
        got = None
    assert got == _by_django_alone(raw)


@pytest.mark.parametrize(
    "raw, region, e164, country",
    [
        ("+1 201 555 0123", "NL", "+12015550123", "US"),
        ("(416) 555-0123", "CA", "+14165550123", "CA"),
        ("+44 7624 123456", "NL", "+447624123456", "IM"),  # +44, but the Isle of Man
        ("06 12345678", "NL", "+31612345678", "NL"),
    ],
)
def test_numbers_of_a_shared_calling_code_get_their_own_country(raw, region, e164, country):
    assert parse_phone(raw, region) == upserts.Phone(e164=e164, region=country)


def test_repeated_numbers_are_read_once_with_the_same_outcome(company, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    content = (
        "phone,country\n"
        "06 12345678,\n"
        "12345,\n"
        "06 12345678,\n"  # the same cell: a duplicate
        "06 12345678,FR\n"  # the same cell, another country: read again, a French number
        "12345,\n"  # the same bad cell: rejected again, with the same reason
        "+31612345678,\n"
    )
    job = create_import(
        company=company,
        upload=SimpleUploadedFile("r.csv", content.encode(), content_type="text/csv"),
    )
    job = run_import(job_id=job.pk)
    assert job.counts == {"created": 2, "duplicate": 2, "invalid": 2}
    assert set(company.contacts.values_list("phone", flat=True)) == {
        "+31612345678",
        "+33612345678",
    }
    reasons = dict(job.rejections.values_list("row", "reason"))
    with pytest.raises(InvalidAddress) as uncached:
        parse_phone("12345", "NL")
    assert reasons[2] == reasons[5] == str(uncached.value)
    assert reasons[2].startswith("“12345” is not a valid NL phone number")


def test_the_number_cache_stays_small(company, settings, tmp_path, monkeypatch):
    settings.IMPORT_DIR = tmp_path
    monkeypatch.setattr(upserts, "PHONE_CACHE_SIZE", 2)
    numbers = [f"+3161234567{i}" for i in range(10)]
    content = "phone\n" + "\n".join(numbers + numbers[:3]) + "\n"
    job = create_import(
        company=company,
        upload=SimpleUploadedFile("s.csv", content.encode(), content_type="text/csv"),
    )
    job = run_import(job_id=job.pk)
    assert job.counts == {"created": 10, "duplicate": 3}
    assert set(company.contacts.values_list("phone", flat=True)) == set(numbers)
