"""The OpenAPI description: one error shape, documented on every operation.

A view documents what is its own with ``responses={200: X, **errors(409)}``. What every
endpoint shares is added by ``add_common_errors`` (a postprocessing hook), so no view has
to remember it: 401 and 429 with their headers, the request id, the 500 in the one shape,
400 for a bad cursor or malformed JSON, 413 for a body too large, 404 where the path names
an id, and the ``Idempotency-Key`` header with its 400, 409 and 422 on every POST behind
``@idempotent``.
``tests/api/test_schema_conformance.py`` holds every answer of every operation to it.
"""

import copy
import re

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from .base import IDEMPOTENCY_HEADER, idempotent

ErrorBody = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="Stable, for programs: invalid, …"),
                "message": serializers.CharField(help_text="For people: what went wrong."),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    help_text="Per field of the request, what is wrong with it.",
                ),
            },
        )
    },
)

WHY = {
    400: "The request is not valid: see `error.fields`.",
    401: "No API key, or one that is not valid, revoked or expired.",
    403: "The key may not do this.",
    404: "No such object in the key's company.",
    409: "The object is not in a state that allows this, or the same Idempotency-Key is "
    "still in progress.",
    413: "The request is too large.",
    422: "The Idempotency-Key was used with another request.",
    429: "Too many requests with this key: wait for the seconds in `Retry-After`.",
    500: "Something failed on our side and was logged: try again later, and quote the "
    "`X-Request-ID` when you ask about it.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """``responses={200: X, **errors(400, 404)}`` for ``extend_schema``."""
    return {code: OpenApiResponse(ErrorBody, description=WHY[code]) for code in statuses}


def add_common_errors(result, generator, request, public):
    """Document on every operation the answers that come from what all endpoints share.

    The request id and a 500 in the one shape on every answer; the key (401) and the rate
    limit (429), with their headers, on every operation with a key; a bad cursor (400) on
    every page; malformed JSON (400) and a body too large (413) wherever a body is read; an
    unknown id (404) wherever the path names one; and on every POST behind ``@idempotent``
    its header with what it can answer (400, 409, 422).
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorDetail", _ERROR_DETAIL)
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
            "required": ["error"],
        },
    )
    result["components"].setdefault("headers", {}).update(copy.deepcopy(_HEADERS))
    idempotent = _idempotent_operations(generator)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.setdefault("parameters", [])
            for parameter in parameters:
                _whole_number_ids(parameter)
            if (path, method) in idempotent:
                # One description of the header, whatever a view wrote of it.
                parameters[:] = [p for p in parameters if p["name"] != IDEMPOTENCY_HEADER]
                parameters.append(copy.deepcopy(_IDEMPOTENCY_PARAMETER))
            named = {(parameter["in"], parameter["name"]) for parameter in parameters}
            codes = {500}
            keyed = not (operation.get("security") == [{}] or not operation.get("security", True))
            if keyed:
                codes |= {401, 429}
            if ("query", "cursor") in named:
                codes.add(400)
            if "requestBody" in operation:
                codes |= {400, 413}
            if any(place == "path" for place, _ in named):
                codes.add(404)
            if (path, method) in idempotent:
                codes |= {400, 409, 422}
            if not parameters:
                del operation["parameters"]
            responses = operation["responses"]
            for code in codes:
                responses.setdefault(str(code), _error_response(code))
            for code, response in responses.items():
                headers = response.setdefault("headers", {})
                headers["X-Request-ID"] = _ref("X-Request-ID")
                if keyed and code != "401":  # counted once the key is known
                    headers.update({name: _ref(name) for name in _RATE_LIMIT_HEADERS})
                if code in _REQUIRED_HEADERS:
                    headers[_REQUIRED_HEADERS[code]] = _ref(_REQUIRED_HEADERS[code])
                if (path, method) in idempotent and code.startswith("2"):
                    headers["Idempotent-Replayed"] = _ref("Idempotent-Replayed")
            operation["responses"] = dict(sorted(responses.items()))
    return result


def _whole_number_ids(parameter: dict) -> None:
    """A path id that the URL only matches as digits (``re_path``) is an integer."""
    schema = parameter.get("schema", {})
    digits = re.fullmatch(r"\^\[0-9\]\{1,(\d+)\}\$", schema.get("pattern", ""))
    if parameter["in"] == "path" and schema.get("type") == "string" and digits:
        parameter["schema"] = {
            "type": "integer",
            "minimum": 0,
            "maximum": 10 ** int(digits.group(1)) - 1,
        }


def _ref(header: str) -> dict:
    return {"$ref": f"#/components/headers/{header}"}


def _error_response(code: int) -> dict:
    return {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        "description": WHY[code],
    }


def _idempotent_operations(generator) -> set[tuple[str, str]]:
    """(path, method) of the operations whose handler is wrapped by ``@idempotent``."""
    found = set()
    for path, _regex, method, callback in generator.endpoints or ():
        handler = getattr(getattr(callback, "cls", None), method.lower(), None)
        if getattr(handler, "__code__", None) is _IDEMPOTENT_CODE:
            view = generator.create_view(callback, method)
            found.add((generator.coerce_path(path, method, view), method.lower()))
    return found


# Every handler wrapped by @idempotent runs this one code object.
_IDEMPOTENT_CODE = idempotent(lambda view, request: None).__code__
_IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Any unique string (a UUID) per request. A retry with the same key and "
    "the same request does nothing again and gets the first answer, with "
    "`Idempotent-Replayed: true`; the key with another request is a 422, and while the "
    "first is still running, a 409. Kept for `API_IDEMPOTENCY_HOURS`.",
}


_RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
_REQUIRED_HEADERS = {"401": "WWW-Authenticate", "429": "Retry-After"}
_HEADERS = {
    "X-Request-ID": {
        "description": "This request's id, in the platform's logs too: quote it when you ask "
        "about an answer. A proxy's or your own `X-Request-ID` (letters, digits, `.`, `-`, "
        "`_`, at most 64) is kept.",
        "required": True,
        "schema": {"type": "string", "maxLength": 64},
    },
    "RateLimit-Limit": {
        "description": "Requests a minute this key may make.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in this minute.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the count starts again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Retry-After": {
        "description": "Seconds to wait before the next request with this key.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWW-Authenticate": {
        "description": 'How to send the key: `Bearer realm="api"`.',
        "required": True,
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with "
        "the same Idempotency-Key: nothing was done again.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


_ERROR_DETAIL = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "fields"],
}
