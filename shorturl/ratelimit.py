"""Fixed-window counters in the cache (Redis in production, so all processes share them).

They fail open: a cache that does not answer counts nothing, so an outage of the store
never stands between a recipient and the way out (the opt-out is in the database).
"""

import logging

from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def _count(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def over_limit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit on ``key``; True once it passes ``limit`` within ``window`` seconds."""
    try:
        return _count(f"rl:{key}", window) > limit
    except Exception:  # any backend's connection error: Redis, memcached, database
        logger.warning("Rate limit store unavailable; not counting %s", key.split(":")[0])
        return False


def is_blocked(key: str, *, limit: int) -> bool:
    """Whether ``key`` has already reached ``limit``, without counting a hit."""
    try:
        return (cache.get(f"rl:{key}") or 0) >= limit
    except Exception:  # as in over_limit
        logger.warning("Rate limit store unavailable; not checking %s", key.split(":")[0])
        return False


def client_ip(request: HttpRequest) -> str:
    # Behind a proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR", "")
