# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Names Kubernetes and PostgreSQL accept: DNS-1123 and DNS-1035 labels, DNS-1123 subdomains (host
names), label keys and values, PostgreSQL identifiers and environment variable names."""

from __future__ import annotations

import re

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_POSTGRES_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_ENVIRONMENT_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _matches(pattern: re.Pattern, value, max_length: int) -> bool:
    return isinstance(value, str) and len(value) <= max_length and pattern.fullmatch(value) is not None


def is_dns_label(value, max_length: int = 63) -> bool:
    """A DNS-1123 label (a namespace's name): lower-case letters, digits and '-', starting and ending with
    a letter or digit. `max_length` is lower where Kubernetes derives longer names from it."""
    return _matches(_DNS_LABEL, value, max_length)


def is_dns_1035_label(value, max_length: int = 63) -> bool:
    """A DNS-1035 label: as a DNS-1123 label, but starting with a letter."""
    return _matches(_DNS_1035_LABEL, value, max_length)


def is_dns_subdomain(value, max_length: int = 253) -> bool:
    """A DNS-1123 subdomain (a Secret's or ConfigMap's name, a host name): DNS labels joined by dots."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        return False
    return all(is_dns_label(label) for label in value.split("."))


def is_host_name(value) -> bool:
    """A host name in lower case, without scheme, port or path, that is not an IPv4 address."""
    return is_dns_subdomain(value) and not set(value) <= set("0123456789.")


def is_label_name(value) -> bool:
    """The name part of a label key: letters, digits, '-', '_' and '.', at most 63, alphanumeric ends."""
    return _matches(_LABEL_NAME, value, 63)


def is_label_key(value) -> bool:
    """A label key: an optional DNS subdomain prefix and '/', then a label name."""
    if not isinstance(value, str):
        return False
    prefix, slash, name = value.rpartition("/")
    return is_label_name(name) and (not slash or is_dns_subdomain(prefix))


def is_label_value(value) -> bool:
    """A label value: empty, or a label name."""
    return value == "" or is_label_name(value)


def is_postgres_identifier(value) -> bool:
    """A lower-case PostgreSQL identifier that needs no quoting: letters, digits and '_', at most 63."""
    return _matches(_POSTGRES_IDENTIFIER, value, 63)


def is_environment_variable_name(value) -> bool:
    return _matches(_ENVIRONMENT_VARIABLE, value, 1 << 16)
