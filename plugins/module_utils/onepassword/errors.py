# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Errors of the 1Password clients. Their messages never hold a secret value or a token."""

from __future__ import annotations


class OnePasswordError(Exception):
    """Reading from 1Password failed. The message never holds a secret value or a token."""


class OnePasswordConfigError(OnePasswordError):
    """The options or references given cannot work (missing token or host, malformed reference)."""


class OnePasswordAuthError(OnePasswordError):
    """1Password refused the token (HTTP 401/403 or the SDK's sign-in failed)."""


class OnePasswordNotFoundError(OnePasswordError):
    """A vault, item, section or field does not exist (or the token may not see it)."""


class OnePasswordRateLimitError(OnePasswordError):
    """1Password still answered 'rate limited' after every retry."""


class OnePasswordUnavailableError(OnePasswordError):
    """1Password still failed transiently (5xx, timeout, dropped connection) after every retry."""


def gave_up_error(exhausted, what, rate_limit_hint=""):
    """The error for retries that ran out (retry.RetriesExhausted) while `what` was being done.

    `rate_limit_hint` ends the message when 1Password was still rate limiting at the last try.
    """
    failure, attempts = exhausted.failure, exhausted.attempts
    tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
    if failure.rate_limited:
        return OnePasswordRateLimitError(
            f"{what}: 1Password is still rate limiting after {tries} ({failure.reason})"
            + (f". {rate_limit_hint}" if rate_limit_hint else "")
        )
    return OnePasswordUnavailableError(f"{what}: failed after {tries}: {failure.reason}")


def raise_problems(problems):
    """Raise one error for all `problems` ((error class, message) pairs), if there are any."""
    if not problems:
        return
    classes = {cls for cls, message in problems}
    error_class = classes.pop() if len(classes) == 1 else OnePasswordError
    raise error_class("; ".join(message for cls, message in problems))


def labels(names):
    """Field or section names for a message: `'a', 'b'`, or `none`."""
    return ", ".join(repr(name) for name in names) if names else "none"
