"""The client's address behind proxies we run, for rate limits and log-in throttling."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ForwardedForMiddleware:
    """Behind ``TRUSTED_PROXY_COUNT`` proxies, REMOTE_ADDR becomes the client's address.

    Each proxy appends the address it received the request from to X-Forwarded-For, so
    the client's is that many entries from the right; anything further left was written
    by the client and is ignored. Every consumer of REMOTE_ADDR (the landing pages' limits,
    django-axes) then counts the client, not the proxy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if count := settings.TRUSTED_PROXY_COUNT:
            hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            hops = [h for h in hops if h]
            # Fewer hops: the request did not pass every proxy (a health check from the
            # load balancer itself); keep the connection's address.
            if len(hops) >= count and _is_ip(hops[-count]):
                request.META["REMOTE_ADDR"] = hops[-count]
        return self.get_response(request)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
