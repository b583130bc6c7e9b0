"""A messages-per-second limit shared by every worker: the generic cell rate algorithm.

Each key keeps one number, the time at which the next message would be on schedule
(``next_at``). Taking ``n`` messages moves it ``n / rate`` seconds on; a request that would
move it more than ``burst`` seconds past now must wait. The clock is the store's own
(Redis ``TIME``, or the database's row lock and this host's clock), so workers on several
machines agree.
"""

import time
from functools import cache

import redis
from django.conf import settings
from django.db import transaction

from .models import RateWindow

# KEYS[1]: the key; ARGV: rate per second, messages wanted, burst in seconds.
# Returns how many seconds to wait before asking again, "0" when granted.
_GCRA = """
local rate, n, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local next_at = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local wait = next_at + n / rate - now - burst
if wait > 0 then return tostring(wait) end
next_at = next_at + n / rate
redis.call('SET', KEYS[1], tostring(next_at), 'PX', math.ceil((next_at - now) * 1000) + 1000)
return '0'
"""


@cache
def _script(url: str):
    return redis.Redis.from_url(url).register_script(_GCRA)


def try_acquire(key: str, n: int, rate: float, burst: float) -> float:
    """Take ``n`` messages at ``rate`` per second if it keeps to the limit; 0.0 when
    taken, else the seconds to wait before asking again (nothing is taken then)."""
    if settings.REDIS_URL:
        return float(_script(settings.REDIS_URL)(keys=[f"throttle:{key}"], args=[rate, n, burst]))
    return _try_acquire_in_database(key, n, rate, burst)


def _try_acquire_in_database(key: str, n: int, rate: float, burst: float) -> float:
    RateWindow.objects.get_or_create(key=key)
    with transaction.atomic():
        window = RateWindow.objects.select_for_update().get(key=key)
        now = time.time()
        next_at = max(window.next_at, now)
        wait = next_at + n / rate - now - burst
        if wait > 0:
            return wait
        window.next_at = next_at + n / rate
        window.save(update_fields=["next_at"])
    return 0.0


def acquire(key: str, n: int, rate: float, *, max_wait: float) -> float:
    """Wait (at most ``max_wait`` seconds in all) until ``n`` messages may go.

    Returns 0.0 once they are taken; otherwise the seconds still to wait, for the caller
    to come back later rather than hold a worker.
    """
    burst = n / rate  # one batch may go at once; the next one waits its turn
    deadline = time.monotonic() + max_wait
    while True:
        wait = try_acquire(key, n, rate, burst)
        if wait <= 0:
            return 0.0
        if time.monotonic() + wait > deadline:
            return wait
        time.sleep(wait)
