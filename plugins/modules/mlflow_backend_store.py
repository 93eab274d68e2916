#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: mlflow_backend_store
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Work out the MLflow backend store URI from the database credentials Secret
description:
  - Reads the database credentials Secret (a C(kubernetes.io/basic-auth) Secret with the keys
    C(username) and C(password)) with one request from the controller, and returns the PostgreSQL
    URI MLflow's backend store takes, C(postgresql+<driver>://<user>:<password>@<host>:<port>/<database>),
    with user, password and database percent-encoded whole, and its SHA-256 checksum.
  - A result holding the URI is always hidden, as C(no_log) would hide it. A failure holds no
    secret; it names the Secret and the variable C(postgres_credentials_secret).
  - In check mode, a Secret that does not exist yet (the first run, before C(homelab.mlflow.postgres)
    writes it) is no failure - RV(pending) is V(true), RV(uri) empty and RV(checksum) V(pending).
options:
  credentials_secret:
    description: Name of the credentials Secret.
    type: str
    required: true
  namespace:
    description: Namespace of the Secret.
    type: str
    required: true
  driver:
    description: Python PostgreSQL driver named in the URI.
    type: str
    default: psycopg2
  host:
    description: Host name of the database service.
    type: str
    required: true
  port:
    description: Port of the database service.
    type: int
    default: 5432
  database:
    description: Name of the database.
    type: str
    required: true
extends_documentation_fragment:
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
"""

EXAMPLES = r"""
- name: Work out the backend store URI from the database credentials
  homelab.mlflow.mlflow_backend_store:
    credentials_secret: mlflow-secrets
    namespace: mlflow
    host: mlflow-postgres-rw.mlflow.svc
    database: mlflow
  register: backend_store
"""

RETURN = r"""
uri:
  description: The backend store URI (a secret); empty while RV(pending).
  returned: always
  type: str
checksum:
  description: SHA-256 of the URI in hexadecimal, for a pod template annotation; V(pending) while RV(pending).
  returned: always
  type: str
pending:
  description: Whether the credentials Secret does not exist yet (check mode only).
  returned: always
  type: bool
requests:
  description: Requests sent to the API server, by HTTP verb.
  returned: always
  type: dict
  sample: {GET: 1}
"""
