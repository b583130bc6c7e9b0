"""``Authorization: Bearer <key>``: the key names the company every query starts from."""

from datetime import UTC

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .keys import key_for_secret, note_key_used
from .models import ApiKey


class KeyHolder:
    """``request.user`` of an API request: the program holding the key, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, key: ApiKey) -> None:
        self.key = key

    def get_username(self) -> str:
        return f"API key {self.key.name}"

    def __str__(self) -> str:
        return self.get_username()


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword.lower().encode():
            # Basic, Token, a bare key: say what to send rather than "no key".
            raise exceptions.AuthenticationFailed(
                "Send the key as “Authorization: Bearer <key>”.", code="invalid_key"
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the key as “Authorization: Bearer <key>”, with no spaces in the key.",
                code="invalid_key",
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            secret = ""
        key = key_for_secret(secret)
        if key is None:
            raise exceptions.AuthenticationFailed(
                "This API key is not valid. Check that it was copied whole.", code="invalid_key"
            )
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f"This API key was revoked on {_when(key.revoked_at)}. Create a new one.",
                code="revoked_key",
            )
        if key.is_expired:
            raise exceptions.AuthenticationFailed(
                f"This API key expired on {_when(key.expires_at)}. Create a new one.",
                code="expired_key",
            )
        note_key_used(key)
        return KeyHolder(key), key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


def _when(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of the company, `oab_…`: created by an owner on "
            "the dashboard's API keys screen, or with `manage.py create_api_key`.",
        }


class HasActiveKey(permissions.BasePermission):
    message = "Send an API key: “Authorization: Bearer <key>”."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)
