"""Fixed-window counters in the cache (Redis in production, so all processes share them)."""

from django.core.cache import cache
from django.http import HttpRequest


def _count(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def over_limit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit on ``key``; True once it passes ``limit`` within ``window`` seconds."""
    return _count(f"rl:{key}", window) > limit


def is_blocked(key: str, *, limit: int) -> bool:
    """Whether ``key`` has already reached ``limit``, without counting a hit."""
    return (cache.get(f"rl:{key}") or 0) >= limit


def client_ip(request: HttpRequest) -> str:
    # Behind a proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR", "")
