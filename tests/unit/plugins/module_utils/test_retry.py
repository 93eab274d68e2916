"""plugins/module_utils/retry.py: bounded retries with exponential backoff, jitter and Retry-After."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.retry import (
    RetriesExhausted,
    RetryPolicy,
    Transient,
    retry_after_seconds,
    tries,
)


class Clock:
    """Stands in for time.monotonic and time.sleep: sleeping moves the clock on, and is recorded."""

    def __init__(self):
        self.now = 0.0
        self.pauses = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds


def failing(*failures):
    """An attempt that raises `failures` one after the other, then returns "done"; its calls counted."""
    remaining = list(failures)

    def attempt():
        attempt.calls += 1
        if remaining:
            raise remaining.pop(0)
        return "done"

    attempt.calls = 0
    return attempt


def test_backoff_doubles_with_jitter_up_to_the_maximum():
    policy = RetryPolicy(retries=10, delay=1.0, max_delay=5.0)

    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        waits = [policy.backoff(retry) for _sample in range(50)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(set(waits)) > 1, "jittered"


def test_the_jitter_spans_half_to_all_of_the_backoff():
    assert RetryPolicy(delay=2.0, jitter=lambda: 0.0).backoff(2) == 2.0
    assert RetryPolicy(delay=2.0, jitter=lambda: 1.0).backoff(2) == 4.0


def test_retry_after_is_waited_for_in_full_up_to_the_maximum():
    policy = RetryPolicy(delay=1.0, max_delay=5.0)

    assert policy.backoff(1, retry_after=3) == 3
    assert policy.backoff(1, retry_after=60) == 5
    # A shorter Retry-After than the backoff does not shorten it.
    assert policy.backoff(3, retry_after=0) >= 2


def test_transient_failures_are_retried_until_the_attempt_succeeds():
    clock = Clock()
    seen = []
    attempt = failing(Transient("HTTP 503"), Transient("HTTP 429", rate_limited=True))
    policy = RetryPolicy(retries=5, delay=1.0, sleep=clock.sleep, clock=clock, jitter=lambda: 1.0)

    assert policy.run(attempt, on_retry=seen.append) == "done"
    assert attempt.calls == 3
    assert clock.pauses == [1.0, 2.0]
    assert [failure.reason for failure in seen] == ["HTTP 503", "HTTP 429"]


def test_retries_a_bounded_number_of_times_then_gives_up_with_the_last_failure():
    clock = Clock()
    last = Transient("HTTP 502", cause="the last answer")
    attempt = failing(Transient("HTTP 503"), Transient("HTTP 503"), Transient("HTTP 503"), last)
    policy = RetryPolicy(retries=3, delay=1.0, max_delay=8.0, sleep=clock.sleep, clock=clock)

    with pytest.raises(RetriesExhausted) as gave_up:
        policy.run(attempt)

    assert attempt.calls == 4
    assert (gave_up.value.attempts, gave_up.value.failure) == (4, last)
    assert gave_up.value.failure.cause == "the last answer"
    assert str(gave_up.value) == "failed after 4 tries: HTTP 502"
    assert [0.5 <= clock.pauses[0] <= 1, 1 <= clock.pauses[1] <= 2, 2 <= clock.pauses[2] <= 4] == [True] * 3


def test_no_retries_means_one_attempt():
    attempt = failing(Transient("timeout"))

    with pytest.raises(RetriesExhausted) as gave_up:
        RetryPolicy(retries=0, sleep=pytest.fail).run(attempt)

    assert (attempt.calls, gave_up.value.attempts) == (1, 1)


def test_the_total_time_is_bounded_whatever_retries_are_left():
    clock = Clock()
    attempt = failing(*[Transient("HTTP 500") for _attempt in range(100)])
    policy = RetryPolicy(
        retries=100, delay=10.0, max_delay=10.0, max_elapsed=35.0, sleep=clock.sleep, clock=clock, jitter=lambda: 1.0
    )

    with pytest.raises(RetriesExhausted) as gave_up:
        policy.run(attempt)

    # Three pauses of 10 s fit in 35 s; a fourth would end past it, so it is not taken.
    assert clock.pauses == [10.0, 10.0, 10.0]
    assert gave_up.value.attempts == 4
    assert clock.now <= 35.0


def test_a_retry_after_beyond_the_total_time_ends_the_retries_at_once():
    clock = Clock()
    attempt = failing(Transient("HTTP 429", rate_limited=True, retry_after=120))
    policy = RetryPolicy(retries=5, max_delay=300.0, max_elapsed=60.0, sleep=clock.sleep, clock=clock)

    with pytest.raises(RetriesExhausted):
        policy.run(attempt)

    assert clock.pauses == []


def test_other_errors_are_not_retried():
    attempt = failing(KeyError("final"))

    with pytest.raises(KeyError):
        RetryPolicy(retries=5, sleep=pytest.fail).run(attempt)
    assert attempt.calls == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": -1}, "retries must be"),
        ({"retries": 1.5}, "retries must be"),
        ({"retries": True}, "retries must be"),
        ({"delay": -1}, "retry_delay must be"),
        ({"max_delay": "soon"}, "retry_max_delay must be"),
        ({"max_elapsed": -5}, "max_elapsed must be"),
    ],
)
def test_refuses_settings_that_cannot_work(options, message):
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**options)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_is_read_in_seconds(headers, seconds):
    assert retry_after_seconds(headers) == seconds


def test_tries_are_counted_in_words():
    assert (tries(1), tries(3)) == ("1 try", "3 tries")
