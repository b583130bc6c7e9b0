"""The OpenAPI description: one error shape, documented on every operation."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

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
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """``responses={200: X, **errors(400, 404)}`` for ``extend_schema``."""
    return {code: OpenApiResponse(ErrorBody, description=WHY[code]) for code in statuses}


def add_common_errors(result, generator, request, public):
    """Every operation can answer 401 (the key) and 429 (the rate limit)."""
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
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if operation.get("security") == [{}] or not operation.get("security", True):
                continue
            for code in (401, 429):
                operation["responses"].setdefault(
                    str(code),
                    {"content": {"application/json": {"schema": ref}}, "description": WHY[code]},
                )
    return result


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
