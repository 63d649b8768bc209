"""Rate limit of the public endpoints, per client address, through the cache.

A fixed window counted with an atomic `incr` (Redis when REDIS_URL is set). Redis is
an optimisation, never a dependency: when the cache cannot be reached the throttle
lets requests through and stops asking the cache for a few seconds.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

CACHE_RETRY_AFTER_FAILURE = 5.0  # seconds
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_cache_down_until = 0.0


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/minute' -> (600, 60), the DRF syntax."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0].lower()]


class PublicRateThrottle(BaseThrottle):
    """`INVENTORY_PUBLIC_THROTTLE` requests per window per client address."""

    scope = "public"

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        global _cache_down_until
        try:
            limit, period = parse_rate(settings.INVENTORY_PUBLIC_THROTTLE)
        except (ValueError, KeyError, AttributeError):
            logger.error("INVENTORY_PUBLIC_THROTTLE is not a rate like '600/minute'; not throttling.")
            return True
        if time.monotonic() < _cache_down_until:
            return True
        now = time.time()
        window = int(now // period)
        ident = hashlib.sha256((self.get_ident(request) or "unknown").encode()).hexdigest()[:32]
        key = f"throttle:{self.scope}:{ident}:{period}:{window}"
        try:
            cache.add(key, 0, timeout=period + 1)
            count = cache.incr(key)
        except ValueError:
            return True  # the key vanished between add and incr (evicted): let it through
        except Exception:  # the cache is unreachable: fail open
            _cache_down_until = time.monotonic() + CACHE_RETRY_AFTER_FAILURE
            logger.warning("Throttle cache unreachable; letting requests through.", exc_info=True)
            return True
        if count > limit:
            self._wait = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        return None if self._wait is None else max(1, math.ceil(self._wait))
