# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MLflow's backend store URI, built from the database credentials Secret.

User and password are percent-encoded whole (any character works), so the URI parses back to
exactly these credentials. The driver is named: SQLAlchemy 2.1 reads a bare postgresql:// as
psycopg 3.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from urllib.parse import quote

# The keys of a kubernetes.io/basic-auth Secret, which CloudNativePG reads too.
CREDENTIAL_KEYS = ("username", "password")


class CredentialsError(ValueError):
    """The credentials Secret is missing, or does not hold both keys."""


def credentials(secret: dict | None) -> tuple[str, str]:
    """(username, password) of the Secret as the API server returns it (base64 data)."""
    if secret is None:
        raise CredentialsError("does not exist")
    data = secret.get("data") or {}
    values = []
    for key in CREDENTIAL_KEYS:
        try:
            value = base64.b64decode(data.get(key) or "", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise CredentialsError(f"holds a {key} that is not base64-encoded UTF-8 text") from None
        if not value:
            raise CredentialsError("has no non-empty keys username and password")
        values.append(value)
    return values[0], values[1]


def backend_store_uri(username: str, password: str, driver: str, host: str, port: int, database: str) -> str:
    return (
        f"postgresql+{driver}://{quote(username, safe='')}:{quote(password, safe='')}"
        f"@{host}:{int(port)}/{quote(database, safe='')}"
    )


def checksum(uri: str) -> str:
    """The hash the pod template carries, so that a new password rolls the pods."""
    return hashlib.sha256(uri.encode()).hexdigest()
