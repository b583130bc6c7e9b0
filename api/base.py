"""What every endpoint shares: the key's company and its scope, errors, pages, limits.

An endpoint is a ``CompanyAPIView`` (or one of its generic subclasses): the key's company
is ``self.company``, every tenant query inside the view must start from it (the scope of
``addressbook.scoping`` is open for the whole request), and another company's row is a 404.
"""

import functools
import hashlib
import json
import logging
import math
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, generics, pagination, status, throttling
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from addressbook.models import Company
from addressbook.scoping import tenant_scope

from .authentication import ApiKeyAuthentication, HasActiveKey
from .models import ApiKey, IdempotentRequest

logger = logging.getLogger(__name__)


# --- errors -------------------------------------------------------------------------
class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request is well formed but cannot be carried out."
    default_code = "unprocessable"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(
            f"The request body is larger than {limit:,} bytes. Send fewer rows per request."
        )


def invalid(message: str, *, fields: dict | None = None, code: str = "invalid"):
    """A 400 with one message and, optionally, the fields it is about."""
    error = exceptions.ValidationError({"detail": message, **(fields or {})})
    error.default_code = code
    return error


def _first_code(codes) -> str:
    while isinstance(codes, dict | list):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def _flat_fields(errors, path: str = "") -> dict[str, list[str]]:
    """``{"rows": [{}, {"phone": ["…"]}]}`` as ``{"rows[1].phone": ["…"]}``.

    Nested serializers answer with nested errors; a program reads one flat map of
    field paths to messages, the same shape whatever the depth.
    """
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for name, inner in errors.items():
            if isinstance(name, int):  # a ListField's errors are keyed by position
                inner_path = f"{path}[{name}]"
            else:
                inner_path = f"{path}.{name}" if path else str(name)
            flat.update(_flat_fields(inner, inner_path))
        return flat
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        return {path or "detail": [str(e) for e in errors]}
    if isinstance(errors, list):
        flat = {}
        for index, inner in enumerate(errors):
            flat.update(_flat_fields(inner, f"{path}[{index}]"))
        return flat
    return {path or "detail": [str(errors)]}


def exception_handler(exc, context):
    """Every error is ``{"error": {"code", "message", "fields"}}`` with its 4xx."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else None)
    elif isinstance(exc, RequestDataTooBig):  # Django's own limit, met reading the body
        exc = RequestTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    fields: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(data, list) and all(isinstance(m, str) for m in data):
            code, message = "invalid", " ".join(str(m) for m in data)
        else:
            message = data.pop("detail", None) if isinstance(data, dict) else None
            fields = _flat_fields(data)
            code = exc.default_code if message else "invalid"
            if isinstance(message, list):
                message = " ".join(str(m) for m in message)
            message = message or "Some fields are not valid: see fields."
    else:
        code = _first_code(exc.get_codes())
        message = str(data.get("detail", "")) if isinstance(data, dict) else str(data)
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


# --- authentication, limits ----------------------------------------------------------
class KeyRateThrottle(throttling.BaseThrottle):
    """A fixed one-minute window per key, counted in the cache shared by all workers.

    One atomic increment per request: cheap enough for the suppression check, which a
    customer's senders call before every message. The key's own ``rate_limit`` wins over
    ``API_REQUESTS_PER_MINUTE``. A cache that does not answer counts nothing: an outage of
    the store must not stop a company's systems from recording an opt-out.
    """

    window = 60

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        limit = key.rate_limit or settings.API_REQUESTS_PER_MINUTE
        if not limit:
            return True
        now = time.time()
        window = int(now // self.window)
        try:
            used = self._count(f"api-rate:{key.prefix}:{window}")
        except Exception:  # any backend's connection error: Redis, memcached, database
            logger.warning("Rate limit store unavailable; not counting API key %s", key.prefix)
            return True
        self._wait = (window + 1) * self.window - now
        # What finalize_response tells the program, on every answer, not only on a 429.
        request.rate_limit = RateLimit(
            limit=limit, remaining=max(limit - used, 0), reset=math.ceil(self._wait)
        )
        return used <= limit

    def _count(self, counter: str) -> int:
        if (store := _redis_of_cache()) is not None:
            # One round trip: Django's incr asks first whether the key exists.
            pipe = store.pipeline(transaction=False)
            pipe.set(counter, 0, ex=self.window * 2, nx=True)
            pipe.incr(counter)
            return pipe.execute()[1]
        try:
            return cache.incr(counter)
        except ValueError:  # the window's first request (or the counter was evicted)
            if cache.add(counter, 1, timeout=self.window * 2):
                return 1
            return cache.incr(counter)  # another worker started it meanwhile

    def wait(self) -> float:
        return math.ceil(self._wait)


@dataclass(frozen=True)
class RateLimit:
    limit: int
    remaining: int
    reset: int  # seconds until the window starts again

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


def _redis_of_cache() -> redis.Redis | None:
    """The cache's own Redis, when it is one (production); None for the trial's cache."""
    conf = settings.CACHES["default"]
    if conf["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return None
    location = conf["LOCATION"]
    return _redis_at(location if isinstance(location, str) else location[0])


@functools.cache
def _redis_at(location: str) -> redis.Redis:
    return redis.Redis.from_url(location.split(",")[0])


class Throttled(exceptions.Throttled):
    default_code = "rate_limited"


class CursorPage(pagination.CursorPagination):
    """Stable pages over a list that changes while a program walks it: ``?cursor=``."""

    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        ordering = self.get_ordering(request, queryset, view)
        self._position_field = queryset.model._meta.get_field(ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """A cursor someone made up or cut short is bad input (a 400), not a missing page;
        its position must fit the column it is compared with, or the query would fail."""
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise _bad_cursor() from None
        if cursor is not None and cursor.position is not None:
            try:
                value = self._position_field.to_python(cursor.position)
            except DjangoValidationError:
                raise _bad_cursor() from None
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                raise _bad_cursor()
        return cursor


def _bad_cursor() -> exceptions.ValidationError:
    return invalid(
        "This cursor is not one of ours: start again without it, then follow `next`.",
        fields={"cursor": ["Not a cursor of this list."]},
        code="invalid_cursor",
    )


# --- the view ------------------------------------------------------------------------
class CompanyAPIView(generics.GenericAPIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasActiveKey]
    throttle_classes = [KeyRateThrottle]
    pagination_class = CursorPage
    # No OPTIONS self-description (the schema is the description): DRF's would need a
    # serializer on views that have none, and fail.
    metadata_class = None
    company: Company

    def dispatch(self, request, *args, **kwargs):
        with ExitStack() as self._scope:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.company = request.auth.company
        request.company = self.company
        # Every tenant query of this request must pin the key's company.
        self._scope.enter_context(tenant_scope(self.company))

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            # No Authorization header at all: say how to send the key.
            raise exceptions.NotAuthenticated(HasActiveKey.message)
        super().permission_denied(request, message, code)

    def throttled(self, request, wait):
        raise Throttled(wait)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit is not None:
            for header, value in rate_limit.headers().items():
                response[header] = value
        return response

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["company"] = getattr(self, "company", None)
        return context


# --- idempotency -----------------------------------------------------------------------
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_STALE = timedelta(minutes=15)


def idempotent(handler):
    """Run a POST handler at most once per ``Idempotency-Key`` of the key's company.

    The same key with the same request replays the first answer (with the header
    ``Idempotent-Replayed: true``); with another request it is a 422; while the first is
    still running, a 409. Only a request that was carried out (a 2xx) is remembered: one
    that was refused (a 4xx: nothing was done) or failed (a 5xx) leaves no trace, so the
    same key can carry the corrected request or the retry. Without the header a POST runs
    as usual.
    """

    @wraps(handler)
    def wrapper(view: CompanyAPIView, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > 255:
            raise invalid(f"An {IDEMPOTENCY_HEADER} is at most 255 characters.")
        company = view.company
        fingerprint = hashlib.sha256(
            json.dumps(
                [request.method, request.path_info, request.data],
                sort_keys=True,
                cls=DjangoJSONEncoder,
            ).encode()
        ).hexdigest()
        IdempotentRequest.objects.filter(
            company=company, key=key, created_at__lt=timezone.now() - _idempotency_ttl()
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    company=company, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            earlier = IdempotentRequest.objects.filter(company=company, key=key).first()
            if earlier is None:  # it failed and was removed meanwhile: try again
                raise Conflict(
                    "A request with this Idempotency-Key has just failed; send it again.",
                    code="idempotency_retry",
                ) from None
            if earlier.fingerprint != fingerprint:
                raise Unprocessable(
                    "This Idempotency-Key was used with another request. Use a new key for "
                    "a new request.",
                    code="idempotency_key_reused",
                ) from None
            if earlier.status_code is None:
                message = "A request with this Idempotency-Key is still in progress."
                if earlier.created_at < timezone.now() - IDEMPOTENCY_STALE:
                    # The process that ran it may have died; running it again might do
                    # it twice, so the program decides, knowing what it sent.
                    message = (
                        "A request with this Idempotency-Key started "
                        f"{earlier.created_at:%Y-%m-%d %H:%M} UTC and never finished. Check "
                        "whether it took effect, then send it with a new Idempotency-Key."
                    )
                raise Conflict(message, code="idempotency_in_progress") from None
            replay = Response(earlier.response, status=earlier.status_code)
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = handler(view, request, *args, **kwargs)
        except (exceptions.APIException, Http404, PermissionDenied) as error:
            response = view.handle_exception(error)
        except BaseException:
            IdempotentRequest.objects.filter(company=company, pk=record.pk).delete()
            raise
        if response.status_code >= 400:
            IdempotentRequest.objects.filter(company=company, pk=record.pk).delete()
        else:
            IdempotentRequest.objects.filter(company=company, pk=record.pk).update(
                status_code=response.status_code,
                response=json.loads(json.dumps(response.data, cls=DjangoJSONEncoder)),
            )
        return response

    return wrapper


def _idempotency_ttl() -> timedelta:
    return timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
