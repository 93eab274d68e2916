#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: mlflow_api_check
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Check that MLflow serves over HTTP, with a smoke run written and read back
description:
  - Asks O(url)C(/health) until it answers 200 (for at most O(health_timeout) seconds) and checks that
    the answer is C(OK).
  - With O(smoke_test), then creates an experiment, a run with a parameter and a metric, uploads an
    artifact through the server's artifact proxy (the run's artifact URI must be C(mlflow-artifacts:)),
    finishes the run, reads run, artifact and listing back and compares them with what was written;
    then deletes artifact, run and experiment again, also when a check failed. Deleted experiments
    stay in the database until C(mlflow gc) purges them.
  - With O(workspaces), creates a workspace and an experiment in it (header C(X-MLFLOW-WORKSPACE)), checks that
    the experiment is found there and not in the workspace C(default), then deletes the workspace with what it
    holds (C(mode=CASCADE)).
  - A server that reads from database standbys may not find what it has just written yet - an answer
    C(RESOURCE_DOES_NOT_EXIST) is asked again for up to 10 seconds.
  - Never reports a change. Requests are sent from the controller.
options:
  url:
    description: Base URL MLflow answers at from the controller.
    type: str
    required: true
  validate_certs:
    description: Whether to check the server's TLS certificate.
    type: bool
    default: true
  smoke_test:
    description: Whether to run the smoke test after C(/health).
    type: bool
    default: true
  workspaces:
    description: Whether to check MLflow's workspaces (the server runs with C(--enable-workspaces)).
    type: bool
    default: false
  health_timeout:
    description: Seconds to ask C(/health) before giving up.
    type: int
    default: 60
  read_records:
    description:
      - Whether to return the server's records (RV(records)) - its active experiments, their newest runs with
        parameters and latest metrics, and its registered models with their latest versions - as an upgrade
        reads them before it migrates.
    type: bool
    default: false
  expect_records:
    description:
      - Records an earlier RV(records) returned; the check fails, naming each, when the server no longer holds one
        of them as it was (an experiment, a run or its parameters and metrics, a registered model version). Empty
        - no such check.
    type: dict
    default: {}
  records_limit:
    description: Most experiments, runs and registered models read for O(read_records) and O(expect_records).
    type: int
    default: 200
  hint:
    description: Text appended to the failure message when C(/health) does not answer, such as what to set instead.
    type: str
    default: ""
extends_documentation_fragment:
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    support: none
"""

EXAMPLES = r"""
- name: Check MLflow's HTTP API
  homelab.mlflow.mlflow_api_check:
    url: https://mlflow.example.com
"""

RETURN = r"""
health:
  description: The answer of C(/health).
  returned: always
  type: str
  sample: OK
smoke_test:
  description: What the smoke test wrote (and deleted again).
  returned: when O(smoke_test) is true and it passed
  type: dict
  contains:
    experiment:
      description: Name of the experiment.
      type: str
    experiment_id:
      description: ID of the experiment.
      type: str
    run_id:
      description: ID of the run.
      type: str
    artifact_uri:
      description: The run's artifact URI.
      type: str
records:
  description: The server's records, to pass to O(expect_records) later.
  returned: when O(read_records) is true
  type: dict
  contains:
    experiments:
      description: Each active experiment's C(id) and C(name).
      type: list
      elements: dict
    runs:
      description: Each run's C(id), C(experiment_id), C(params) and latest C(metrics).
      type: list
      elements: dict
    models:
      description: Each registered model's C(name) and its latest C(versions) (C(version), C(run_id)).
      type: list
      elements: dict
records_checked:
  description: How many of each kind O(expect_records) held, all found as they were.
  returned: when O(expect_records) is given and every record was found
  type: str
  sample: 2 experiment(s), 4 run(s), 1 registered model(s) with 1 version(s)
workspaces:
  description: What the workspace check made (and deleted again).
  returned: when O(workspaces) is true and it passed
  type: dict
  contains:
    workspace:
      description: Name of the workspace.
      type: str
    experiment_id:
      description: ID of the experiment made in it.
      type: str
"""
