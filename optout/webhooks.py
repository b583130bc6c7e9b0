"""Signed gateway webhooks: ``X-Signature: sha256=<hex HMAC-SHA256 of the raw body>``."""

import hmac
import json
from hashlib import sha256

from django.http import HttpRequest, QueryDict

SIGNATURE_HEADER = "X-Signature"
MAX_BODY_BYTES = 64 * 1024


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, sha256).hexdigest()


def verified_fields(request: HttpRequest, secret: str, required: tuple[str, ...]) -> dict:
    """The request's fields, once its size, signature and shape have all been checked."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError as exc:
        raise BadRequest("Content-Length is not a number.") from exc
    if length > MAX_BODY_BYTES:
        raise BadRequest(f"Body larger than {MAX_BODY_BYTES} bytes.", status=413)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"Body larger than {MAX_BODY_BYTES} bytes.", status=413)
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given:
        raise BadRequest(f"Missing {SIGNATURE_HEADER} header.", status=401)
    if not hmac.compare_digest(given.encode(), sign(body, secret).encode()):
        raise BadRequest("Signature does not match the body.", status=401)
    if request.content_type == "application/json":
        try:
            fields = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest("Body is not valid JSON.") from exc
        if not isinstance(fields, dict):
            raise BadRequest("Body must be a JSON object.")
    else:
        fields = QueryDict(body, encoding="utf-8").dict()
    missing = [name for name in required if not isinstance(fields.get(name), str)]
    if missing:
        raise BadRequest("Missing or non-text field(s): " + ", ".join(missing) + ".")
    return fields
