"""plugins/module_utils/onepassword/errors.py: what the errors say when the retries run out (the policy
itself: tests/unit/plugins/module_utils/test_retry.py).
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordRateLimitError,
    OnePasswordUnavailableError,
    gave_up_error,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.retry import RetriesExhausted, Transient


def test_retries_that_run_out_say_how_many_attempts_failed_and_why():
    error = gave_up_error(RetriesExhausted(Transient("HTTP 503"), 4), "reading x")

    assert isinstance(error, OnePasswordUnavailableError)
    assert str(error) == "reading x: failed after 4 attempts: HTTP 503"


def test_rate_limiting_that_outlasts_the_retries_is_reported_as_such():
    error = gave_up_error(RetriesExhausted(Transient("HTTP 429", rate_limited=True), 2), "reading x", "Wait")

    assert isinstance(error, OnePasswordRateLimitError)
    assert str(error) == "reading x: 1Password is still rate limiting after 2 attempts (HTTP 429). Wait"
