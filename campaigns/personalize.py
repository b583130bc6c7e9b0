"""Filling a campaign body for one contact, and the opt-out text its country gets."""

import re
import secrets

from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import TextNode, VariableNode

PLACEHOLDERS = ("first_name", "last_name", "full_name", "phone", "email", "company")
FILTERS = ("default", "upper", "lower", "title", "capfirst")
_VARIABLE = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)")

# Plain text: no HTML escaping, and no template folders to include from.
_engine = Engine(autoescape=False)

# No look-alikes (0/O/o, 1/l/I): people type these codes from a phone screen.
CODE_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class BodyError(ValueError):
    pass


def compile_body(body: str) -> Template:
    unknown = sorted({name for name in _VARIABLE.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        raise BodyError(
            f"Unknown placeholder {{{{ {unknown[0]} }}}}; use one of: "
            + ", ".join(PLACEHOLDERS)
            + "."
        )
    try:
        template = _engine.from_string(body)
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
CONTACT_FIELDS = ("id", "phone", "country", "email", "first_name", "last_name")


def placeholder_values(contact: dict, company_name: str) -> dict[str, str]:
    return {
        "first_name": contact["first_name"],
        "last_name": contact["last_name"],
        "full_name": f"{contact['first_name']} {contact['last_name']}".strip(),
        "phone": contact["phone"],
        "email": contact["email"],
        "company": company_name,
    }


def compose_sms(template: Template, values: dict[str, str], footer: str) -> str:
    """The body as the recipient reads it: personalised text, then the opt-out text."""
    return f"{template.render(Context(values, autoescape=False)).strip()}\n{footer}"


def new_short_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def short_link(code: str) -> str:
    return f"{settings.SHORT_URL_BASE}/{code}"
