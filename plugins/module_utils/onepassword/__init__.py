# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One client for reading 1Password items, shared by the module and the lookup of homelab.mlflow.

Two backends behind one interface (`OnePasswordClient.read` and `.read_item`), a module a job:

options: the connection options of every plugin that reads 1Password (`ONEPASSWORD_ARG_SPEC`).
references: ``op://`` secret references (`SecretReference`).
errors: `OnePasswordError` and its subclasses; their messages never hold a secret or a token.
client: what both backends share (reading, retries, redaction).
sdk_backend: ``sdk``, onepassword-sdk with a service account token, one batched read per call.
connect_backend, connect_items: ``connect``, a Connect server's REST API, one GET per item.
clients: one client per set of credentials in a process (`onepassword_client`, `client_from_params`).

Both retry with exponential backoff and jitter, a bounded number of times (plugins/module_utils/retry.py),
on rate limiting (HTTP 429, the SDK's ``RateLimitExceededException``) and transient failures
(HTTP 5xx, timeouts, dropped connections).
"""
