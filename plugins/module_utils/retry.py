# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bounded retries with exponential backoff and jitter, for every client of an external service.

A client wraps one request in an `attempt` function that raises `Transient` for a failure that
another try may not meet (rate limited, 5xx, timeout, dropped connection) and anything else for a
failure that is final. `RetryPolicy.run` tries again after a pause, a bounded number of times and
within a bounded total time, and raises `RetriesExhausted` (with the last `Transient`) when it
gives up; the client turns that into an error of its own that says why.
"""

from __future__ import annotations

import random
import time

# Retries end after this many seconds in all (tries and pauses), however many were allowed: a
# service that keeps failing should fail the task in minutes, not hang it.
DEFAULT_MAX_ELAPSED = 300.0

_JITTER = random.SystemRandom()


class Transient(Exception):
    """One try failed in a way that another try may not.

    `reason` says why (for the final message), `rate_limited` marks a refusal for going too fast,
    `retry_after` holds the seconds the server asked to wait (Retry-After), `cause` what the
    client wants back when it gives up (the last answer, say).
    """

    def __init__(self, reason, rate_limited=False, retry_after=None, cause=None):
        super().__init__(reason)
        self.reason = reason
        self.rate_limited = rate_limited
        self.retry_after = retry_after
        self.cause = cause


class RetriesExhausted(Exception):
    """Every try allowed failed transiently; `failure` is the last `Transient`, `attempts` the tries made."""

    def __init__(self, failure, attempts):
        super().__init__(f"failed after {tries(attempts)}: {failure.reason}")
        self.failure = failure
        self.attempts = attempts


def tries(count):
    """`1 try`, `3 tries`: for messages."""
    return "1 try" if count == 1 else f"{count} tries"


def retry_after_seconds(headers):
    """Seconds from a Retry-After header given in seconds; None without one (a date is ignored)."""
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except (TypeError, ValueError):
        return None


def _non_negative_number(name, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a number of seconds, 0 or more, got {value!r}")
    return float(value)


class RetryPolicy:
    """At most `retries` more tries, within `max_elapsed` seconds in all (None: no limit but `retries`).

    Before retry n (1, 2, ...) it waits a random time between half and all of
    ``min(max_delay, delay * 2 ** (n - 1))`` seconds: the jitter keeps clients that failed
    together from retrying together. A server's Retry-After is waited for in full (at most
    `max_delay`). A pause that would end past `max_elapsed` is not taken: the policy gives up.
    `jitter()` gives a number from 0 to 1; it, `sleep` and `clock` are there for tests.
    """

    def __init__(
        self,
        retries=5,
        delay=1.0,
        max_delay=30.0,
        max_elapsed=DEFAULT_MAX_ELAPSED,
        sleep=time.sleep,
        clock=time.monotonic,
        jitter=_JITTER.random,
    ):
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise ValueError(f"retries must be an integer of 0 or more, got {retries!r}")
        self.retries = retries
        self.delay = _non_negative_number("retry_delay", delay)
        self.max_delay = _non_negative_number("retry_max_delay", max_delay)
        self.max_elapsed = None if max_elapsed is None else _non_negative_number("max_elapsed", max_elapsed)
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter

    def backoff(self, retry_number, retry_after=None):
        """Seconds to wait before retry number `retry_number` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.delay * 2 ** (retry_number - 1))
        wait = ceiling / 2 + self.jitter() * ceiling / 2
        if retry_after is not None:
            wait = max(wait, float(retry_after))
        return min(wait, self.max_delay)

    def run(self, attempt, on_retry=None):
        """Call `attempt()` until it returns or raises anything but `Transient`, or the retries are spent.

        `on_retry(failure)` is called before each pause. Raises `RetriesExhausted` on giving up.
        """
        started = self.clock()
        retried = 0
        while True:
            try:
                return attempt()
            except Transient as failure:
                wait = self.backoff(retried + 1, failure.retry_after)
                out_of_time = self.max_elapsed is not None and self.clock() - started + wait > self.max_elapsed
                if retried >= self.retries or out_of_time:
                    raise RetriesExhausted(failure, retried + 1) from None
                retried += 1
                if on_retry is not None:
                    on_retry(failure)
                self.sleep(wait)
