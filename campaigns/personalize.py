"""Filling a campaign for one contact, with the opt-out text or link it must carry."""

import html
import re
import secrets
import unicodedata
from base64 import urlsafe_b64encode
from collections.abc import Iterable

from django.conf import settings
from django.core.signing import BadSignature, Signer
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import TextNode, Variable, VariableNode
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import escape

PLACEHOLDERS = ("first_name", "last_name", "full_name", "phone", "email", "company")
FILTERS = ("default", "upper", "lower", "title", "capfirst")
_VARIABLE = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)")

# No template folders to include from; HTML bodies escape what contacts typed.
_text_engine = Engine(autoescape=False)
_html_engine = Engine(autoescape=True)

# No look-alikes (0/O/o, 1/l/I): people type these codes from a phone screen.
CODE_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class BodyError(ValueError):
    pass


def compile_body(
    body: str, *, html: bool = False, custom_keys: Iterable[str] | None = None
) -> Template:
    """The body as a template; placeholders are checked when ``custom_keys`` is given
    (on saving), not at send time, when a since-deleted field just renders empty."""
    if custom_keys is not None:
        known = (*PLACEHOLDERS, *custom_keys)
        unknown = sorted({name for name in _VARIABLE.findall(body) if name not in known})
        if unknown:
            raise BodyError(
                f"Unknown placeholder {{{{ {unknown[0]} }}}}; use one of: " + ", ".join(known) + "."
            )
    try:
        template = (_html_engine if html else _text_engine).from_string(body)
    except TemplateSyntaxError as exc:
        raise BodyError(f"The message cannot be read: {exc}") from exc
    # Placeholders and a few filters only: a tag ({% ... %}) could read files, show
    # internals or fail at send time for every recipient.
    for node in template.nodelist:
        if isinstance(node, TextNode):
            continue
        if not isinstance(node, VariableNode):
            raise BodyError(
                "Only placeholders such as {{ first_name }} are allowed, not {% tags %}."
            )
        for func, _args in node.filter_expression.filters:
            name = getattr(func, "_filter_name", func.__name__)
            if name not in FILTERS:
                raise BodyError(f"Unknown filter |{name}; use one of: " + ", ".join(FILTERS) + ".")
    return template


# The contact columns a message is made from, read with .values() in bulk.
CONTACT_FIELDS = ("id", "phone", "country", "email", "first_name", "last_name", "custom")


def placeholder_values(contact: dict, company_name: str) -> dict[str, str]:
    return {
        **(contact.get("custom") or {}),
        "first_name": contact["first_name"],
        "last_name": contact["last_name"],
        "full_name": f"{contact['first_name']} {contact['last_name']}".strip(),
        "phone": contact["phone"],
        "email": contact["email"],
        "company": company_name,
    }


def render(template: Template, values: dict[str, str]) -> str:
    """The template filled in and stripped, as Django renders it."""
    plan = _plan(template)
    if plan is not None:
        filled = _fill(plan, values, template.engine.autoescape)
        if filled is not None:
            return filled.strip()
    return template.render(Context(values, autoescape=template.engine.autoescape)).strip()


def _plan(template: Template) -> tuple | None:
    """The template as its texts and the names of its placeholders, made once per
    template: None when one has a filter or a dotted name (Django renders those)."""
    try:
        return template._placeholder_plan
    except AttributeError:
        pass
    plan = []
    for node in template.nodelist:
        if isinstance(node, TextNode):
            plan.append(node.s)
            continue
        expression = getattr(node, "filter_expression", None)
        var = getattr(expression, "var", None)
        if (
            not isinstance(node, VariableNode)
            or expression.filters
            or not isinstance(var, Variable)
            or var.literal is not None
            or var.translate
            or var.lookups is None
            or len(var.lookups) != 1
        ):
            plan = None
            break
        plan.append((var.lookups[0],))
    template._placeholder_plan = plan = tuple(plan) if plan is not None else None
    return plan


def _fill(plan: tuple, values: dict, autoescape: bool) -> str | None:
    """What Django's render gives for a plan of texts and bare placeholders whose values
    are all strings (escaped in HTML); None for anything else (a missing placeholder, a
    number, a date), which Django renders: localized, or empty."""
    parts = []
    for item in plan:
        if type(item) is str:
            parts.append(item)
            continue
        value = values.get(item[0])
        if type(value) is not str:
            return None
        parts.append(html.escape(value) if autoescape else value)
    return "".join(parts)


def compose_sms(template: Template, values: dict[str, str], footer: str) -> str:
    """The body as the recipient reads it: personalised text, then the opt-out text.

    Composed to NFC: an é typed as e and a combining accent stays in GSM-7 (one part of
    160) instead of forcing the whole message to UCS-2 (70).
    """
    return unicodedata.normalize("NFC", f"{render(template, values)}\n{footer}")


def compose_email_text(template: Template, values: dict[str, str], link: str) -> str:
    """A visible personal unsubscribe link in every marketing email, as mailbox rules ask."""
    return f"{render(template, values)}\n\n--\nUnsubscribe: {link}"


def compose_email_html(template: Template, values: dict[str, str], link: str) -> str:
    return (
        f"{render(template, values)}\n"
        f'<p style="font-size:12px;color:#666"><a href="{escape(link)}">Unsubscribe</a></p>'
    )


# Random bytes below this are taken (modulo the alphabet's size, evenly), the rest dropped.
_CODE_BYTE_LIMIT = 256 - 256 % len(CODE_ALPHABET)


def new_short_code() -> str:
    """CODE_LENGTH characters of CODE_ALPHABET, each uniformly random: from one call for
    random bytes, not one per character."""
    code = ""
    while len(code) < CODE_LENGTH:
        code += "".join(
            CODE_ALPHABET[b % len(CODE_ALPHABET)]
            for b in secrets.token_bytes(2 * CODE_LENGTH)
            if b < _CODE_BYTE_LIMIT
        )
    return code[:CODE_LENGTH]


def short_link(code: str) -> str:
    return f"{settings.SHORT_URL_BASE}/{code}"


_unsubscribe_signer = Signer(salt="campaigns.unsubscribe")


def unsubscribe_link(code: str) -> str:
    """An email's personal unsubscribe URL: its message's code, signed, so it can be
    neither guessed nor forged, and is tied to one company, contact and campaign."""
    return f"{settings.SHORT_URL_BASE}/u/{_unsubscribe_signer.sign(code)}"


def code_from_unsubscribe_token(token: str) -> str | None:
    try:
        return _unsubscribe_signer.unsign(token)
    except BadSignature:
        return None


MAILTO_SUBJECT = "unsubscribe"


def _mailto_token(code: str) -> str:
    # 128 bits of HMAC: unforgeable, and short enough that "unsubscribe+<token>" stays well
    # inside the 64 characters an address's local part may have (a full signature would not).
    digest = salted_hmac("campaigns.unsubscribe-mailto", code, algorithm="sha256").digest()
    return f"{code}.{urlsafe_b64encode(digest[:16]).decode().rstrip('=')}"


def unsubscribe_mailto(code: str) -> str:
    """The List-Unsubscribe mailto: of a message: UNSUBSCRIBE_MAILTO with the message's
    signed code after a "+" and in the subject, so a mail to it names the company, the
    address and the campaign, and nobody can make one up for another address."""
    token = _mailto_token(code)
    local, _, domain = settings.UNSUBSCRIBE_MAILTO.rpartition("@")
    return f"mailto:{local}+{token}@{domain}?subject={MAILTO_SUBJECT}%20{token}"


def code_from_mailto(*, recipients: list[str], subject: str) -> str | None:
    """The message code a mail to an unsubscribe mailto: carries, if one is genuine: in the
    address's "+" part, or else (a mail program that dropped it) in the subject."""
    candidates = [
        address.rpartition("@")[0].partition("+")[2] for address in recipients if "+" in address
    ]
    candidates += subject.split()[-1:]
    for token in candidates:
        code = token.partition(".")[0]
        if code and constant_time_compare(token, _mailto_token(code)):
            return code
    return None
