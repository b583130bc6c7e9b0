"""A campaign's email built straight to bytes (campaigns.mime): what Django's email package
would have sent, read back the same by a mail program."""

import random
import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest
from django.core import mail
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.template import Context

from campaigns.mime import CampaignEmail, encoded_words
from campaigns.models import Campaign, Message
from campaigns.personalize import compile_body, render
from campaigns.services import create_campaign
from tests.factories import ContactFactory

from .running import run_campaign

FROM = '"Brûlerie Zoë" <hello@news.acme.example>'
LINK = "https://no-s.test/u/abcdefgh:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
HEADERS = {"List-Unsubscribe": f"<{LINK}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _same_but_fresh(data: bytes) -> bytes:
    """The bytes without what each message makes afresh: its Date, Message-ID, boundary."""
    data = re.sub(rb"\r\nDate: [^\r\n]*", b"\r\nDate: -", data)
    data = re.sub(rb"\r\nMessage-ID: <[^>]*>", b"\r\nMessage-ID: -", data)
    return re.sub(rb"={15}\d+==", b"BOUNDARY", data)


def _pair(html: str | None = None, **kwargs) -> tuple[bytes, bytes]:
    """The same email's bytes from Django's message() and from CampaignEmail's."""
    kwargs = {"from_email": FROM, "to": ["sanne@example.nl"], "headers": HEADERS} | kwargs
    built = []
    for cls in (EmailMultiAlternatives, CampaignEmail):
        email = cls(**kwargs)
        if html is not None:
            email.attach_alternative(html, "text/html")
        built.append(email.message().as_bytes(linesep="\r\n"))
    return built[0], built[1]


@pytest.mark.parametrize("html", [None, "<p>Hi <b>Sanne</b> &amp; co</p>\n"])
@pytest.mark.parametrize(
    "subject",
    [
        "Beans for Sanne",
        "",
        "A long subject that the email package folds at a space " * 3,
        "Looks =?utf-8?q?encoded?= but is not",
    ],
)
def test_bytes_are_djangos_but_for_date_message_id_and_boundary(subject, html):
    body = f"Hi Zoë,\nfresh beans.\r\n\n--\nUnsubscribe: {LINK}"
    django_bytes, fast = _pair(html, subject=subject, body=body)
    assert _same_but_fresh(fast) == _same_but_fresh(django_bytes)


def test_ascii_body_is_7bit_and_the_text_alone_is_not_multipart():
    django_bytes, fast = _pair(subject="Hi", body="Hi Sanne\n")
    assert b"Content-Transfer-Encoding: 7bit" in fast and b"multipart" not in fast
    assert _same_but_fresh(fast) == _same_but_fresh(django_bytes)


@pytest.mark.parametrize(
    "subject",
    [
        "Zoë, 20% off at Brûlerie",
        "Łukasz Żółkiewski, ваш кофе ☕ 中文 😀 = ? _ end",
        "é" * 200,
        "Dvořák and the rest: " + "x" * 90 + " Ömer",
    ],
)
def test_a_subject_outside_ascii_reads_back_the_same(subject):
    django_bytes, fast = _pair("<p>Hi</p>", subject=subject, body="Hi Zoë")
    for read in (policy.default, policy.compat32):
        parsed = message_from_bytes(fast, policy=read)
        if read is policy.default:
            assert parsed["Subject"] == subject
        else:
            assert str(make_header(decode_header(parsed["Subject"]))) == subject
    assert all(len(line) <= 78 for line in fast.split(b"\r\n\r\n")[0].split(b"\r\n"))
    without = rb"\r\nSubject: .*?\r\n(?! )"
    assert re.sub(without, b"\r\n", _same_but_fresh(fast), flags=re.S) == re.sub(
        without, b"\r\n", _same_but_fresh(django_bytes), flags=re.S
    )


def test_encoded_words_never_cut_a_character():
    rng = random.Random(7)
    alphabet = "aZ09 _=?é€😀中\u0301"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 150)))
        words = encoded_words(text)
        assert all(len(w) <= 78 - len("Subject: ") for w in words)
        assert str(make_header(decode_header(" ".join(words)))) == text


def test_anything_else_is_left_to_django():
    email = CampaignEmail(subject="Hi", body="Hi", from_email=FROM, to=["a@example.nl"])
    email.cc = ["b@example.nl"]
    assert "Cc: b@example.nl" in email.message().as_string()
    long_line = "x" * 1200
    django_bytes, fast = _pair(subject="Hi", body=long_line)
    assert b"quoted-printable" in fast
    assert _same_but_fresh(fast) == _same_but_fresh(django_bytes)
    # A line break in a header: refused, as by Django.
    with pytest.raises(BadHeaderError):
        CampaignEmail(subject="Hi\nBcc: x@evil.example", body="Hi", to=["a@example.nl"]).message()


def test_a_non_ascii_address_is_encoded_as_django_does():
    django_bytes, fast = _pair(subject="Hi", body="Hi", to=["zoë@example.nl"])
    assert _same_but_fresh(fast) == _same_but_fresh(django_bytes)


def test_a_changed_tree_is_written_by_the_email_package():
    """Some services' backends add headers to message() before taking its bytes."""
    email = CampaignEmail(subject="Hi", body="Hi", from_email=FROM, to=["a@example.nl"])
    email.attach_alternative("<p>Hi</p>", "text/html")
    tree = email.message()
    tree["X-Tag"] = "spring"
    for part in tree.walk():
        if part.get_content_type() == "text/html":
            part.set_payload("<p>Changed</p>")
    data = tree.as_bytes(linesep="\r\n")
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["X-Tag"] == "spring"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Changed</p>"
    assert parsed.get_body(("plain",)).get_content() == "Hi"


def test_each_message_has_its_own_message_id_and_a_date():
    ids = set()
    for _ in range(50):
        tree = CampaignEmail(subject="Hi", body="Hi", to=["a@example.nl"]).message()
        parsed = message_from_bytes(tree.as_bytes(), policy=policy.default)
        assert parsed["Date"].datetime is not None
        ids.add(parsed["Message-ID"])
    assert len(ids) == 50


@pytest.mark.parametrize(
    ("body", "values"),
    [
        ("Hi {{ first_name }} {{last_name}}!", {"first_name": "Zoë", "last_name": "<O'B & co>"}),
        ("Hi {{ first_name|default:'friend' }}", {"first_name": ""}),
        ("Hi {{ first_name|upper }} {{ visits }}", {"first_name": "zoë", "visits": 1234.5}),
        ("Hi {{ gone }}.", {"first_name": "Zoë"}),
        ("  {{ first_name }}  ", {"first_name": " padded "}),
    ],
)
@pytest.mark.parametrize("html", [False, True])
def test_placeholders_render_as_django_renders_them(body, values, html):
    template = compile_body(body, html=html)
    django = template.render(Context(values, autoescape=html)).strip()
    assert render(template, values) == django
    assert render(template, values) == django  # once planned


@pytest.fixture
def email_campaign(company):
    company.name = "Brûlerie Zoë"
    company.save()
    ContactFactory(company=company, first_name="Łukasz", last_name="Żółkiewski", email="l@ex.pl")
    campaign = create_campaign(
        company=company,
        name="Spring",
        channel="email",
        subject="{{ first_name }}, 20% off at {{ company }}",
        body="Hi {{ first_name }} {{ last_name }}, fresh beans.",
        html_body="<p>Hi <b>{{ first_name }}</b> &amp; {{ last_name }}</p>",
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    return campaign


def _sent_bytes() -> tuple[bytes, object]:
    [email] = mail.outbox
    data = email.message().as_bytes(linesep="\r\n")
    return data, message_from_bytes(data, policy=policy.default)


def test_a_campaign_email_carries_its_link_headers_and_names(email_campaign):
    run_campaign(email_campaign)
    data, parsed = _sent_bytes()
    assert isinstance(mail.outbox[0], CampaignEmail)
    assert parsed["Subject"] == "Łukasz, 20% off at Brûlerie Zoë"
    assert parsed["From"].addresses[0].display_name == "Brûlerie Zoë"
    assert parsed["To"] == "l@ex.pl"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Folded after its name, as Django's is: " <https://…>" once unfolded.
    header = parsed["List-Unsubscribe"].strip()
    link = re.fullmatch(r"<(https://no-s\.test/u/[^>]+)>", header).group(1)
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert text == f"Hi Łukasz Żółkiewski, fresh beans.\r\n\r\n--\r\nUnsubscribe: {link}"
    assert "<b>Łukasz</b> &amp; Żółkiewski" in html and f'href="{link}"' in html
    message = Message.objects.get(campaign=email_campaign)
    assert message.status == Message.Status.SENT and message.short_code in link


def test_without_an_html_body_the_email_is_text_alone(email_campaign):
    Campaign.objects.filter(pk=email_campaign.pk).update(html_body="")
    run_campaign(email_campaign)
    data, parsed = _sent_bytes()
    assert parsed.get_content_type() == "text/plain" and mail.outbox[0].alternatives == []
    assert parsed["List-Unsubscribe"].strip().startswith("<https://no-s.test/u/")


def test_links_and_addresses_are_folded_as_the_email_package_folds_them():
    from email._policybase import compat32

    from campaigns.mime import header

    fold = compat32.clone(linesep="\r\n").fold_binary
    rng = random.Random(11)
    alphabet = "abcXYZ0189<>:/._-?=%+@"
    for _ in range(3000):
        words = [
            "".join(rng.choice(alphabet) for _ in range(rng.choice([3, 30, 60, 77, 78, 90, 200])))
            for _ in range(rng.randint(1, 4))
        ]
        value = rng.choice([", ", " "]).join(words)
        name = rng.choice(["List-Unsubscribe", "To", "Message-ID"])
        assert header(name, value)[0] == fold(name, value), value


def test_short_codes_use_the_whole_alphabet_and_only_it():
    from campaigns.personalize import CODE_ALPHABET, CODE_LENGTH, new_short_code

    codes = [new_short_code() for _ in range(2000)]
    assert all(len(c) == CODE_LENGTH for c in codes)
    assert set("".join(codes)) == set(CODE_ALPHABET)
    assert len(set(codes)) == len(codes)
