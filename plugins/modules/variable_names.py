#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: variable_names
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Warn about variables of homelab.mlflow that no role reads
description:
  - Looks at the names of the host's variables (inventory host and group variables, extra vars,
    play variables) that carry a prefix of the collection - the name of one of its roles followed
    by C(_), such as C(mlflow_) or C(postgres_), the first word of any variable a role declares
    outside its own prefix, such as C(onepassword_), and C(homelab_mlflow_) - and reports each one
    that no role of the collection reads, with the closest declared name, for example
    C(mlflow_replica is set, but no role of homelab.mlflow reads it, so it has no effect; did you
    mean mlflow_replicas?) after the host's name.
  - A name is read by a role when the role declares it in C(meta/argument_specs.yml) (any entry
    point), sets it in C(defaults/main.yml) or C(vars/main.yml), or registers it or sets it as a fact
    in its tasks. The names are read from the collection's roles at run time.
  - Only names are looked at, never values; nothing is contacted, and the task never changes
    anything.
  - C(playbooks/site.yml), C(playbooks/verify.yml) and C(playbooks/drift.yml) run it as their first
    task, tagged C(always).
options:
  unknown_variables:
    description:
      - What to do about a variable that no role reads - V(warn) prints a warning per host and
        variable and goes on, V(fail) fails the task with one message listing them all.
      - When not set, the value of the variable C(homelab_mlflow_unknown_variables), and V(warn) when
        that is not set either.
    type: str
    choices: [warn, fail]
extends_documentation_fragment:
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  delegation:
    details: It looks at the variables of the host the task runs for.
notes:
  - A role of your own whose variables share a prefix of the collection gets warnings too; give its
    variables a prefix of their own.
"""

EXAMPLES = r"""
- name: Check the names of the variables set for homelab.mlflow
  homelab.mlflow.variable_names:
  tags: [always]

- name: Fail on a variable that no role reads, whatever homelab_mlflow_unknown_variables says
  homelab.mlflow.variable_names:
    unknown_variables: fail
"""

RETURN = r"""
unknown_variables:
  description:
    - The variables that carry a prefix of the collection but that no role reads, sorted by name,
      each with the declared name closest to it (V(null) when none is close enough).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The variable's name.
      type: str
      sample: mlflow_replica
    suggestion:
      description: The declared name closest to it, or V(null).
      type: str
      sample: mlflow_replicas
  sample:
    - name: mlflow_replica
      suggestion: mlflow_replicas
"""
