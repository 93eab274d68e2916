#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_managed_info
short_description: List the objects of several kinds and namespaces that carry a label, in one run
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - Lists, with one connection, every object of O(kinds) in each of O(namespaces) (an empty name
    stands for the cluster scope, for kinds that are not namespaced) that matches O(label_selector).
  - A kind the cluster does not serve is skipped. Reads only.
  - playbooks/teardown.yml finds what to remove with it.
options:
  kinds:
    description: The kinds, each with C(api_version) and C(kind).
    type: list
    elements: dict
    required: true
  namespaces:
    description: The namespaces to list namespaced kinds in; an empty string lists cluster-scoped kinds.
    type: list
    elements: str
    required: true
  label_selector:
    description: A Kubernetes label selector, for example C(app.kubernetes.io/managed-by=homelab.mlflow).
    type: str
    required: true
  kubeconfig:
    description: The kubeconfig file; the client's default when not set.
    type: path
  context:
    description: The kubeconfig context; the current one when not set.
    type: str
extends_documentation_fragment:
  - homelab.mlflow.attributes
attributes:
  check_mode:
    details: The module only reads.
requirements:
  - kubernetes (Python)
"""

EXAMPLES = r"""
- name: List the collection's objects in the namespace
  homelab.mlflow.k8s_managed_info:
    kinds: [{api_version: apps/v1, kind: Deployment}]
    namespaces: [mlflow]
    label_selector: app.kubernetes.io/managed-by=homelab.mlflow
  register: managed
"""

RETURN = r"""
resources:
  description: The objects found, as the API server returns them.
  returned: success
  type: list
  elements: dict
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from kubernetes import config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()


def list_objects(client, kinds, namespaces, label_selector):
    found = []
    for item in kinds:
        try:
            resource = client.resources.get(api_version=item["api_version"], kind=item["kind"])
        except ResourceNotFoundError:
            continue
        scopes = [ns for ns in namespaces if ns] if resource.namespaced else [None]
        for namespace in scopes:
            try:
                answer = resource.get(namespace=namespace, label_selector=label_selector)
            except NotFoundError:
                continue
            for obj in answer.to_dict().get("items") or []:
                obj.setdefault("apiVersion", item["api_version"])
                obj.setdefault("kind", item["kind"])
                found.append(obj)
    return found


def main():
    module = AnsibleModule(
        argument_spec={
            "kinds": {"type": "list", "elements": "dict", "required": True},
            "namespaces": {"type": "list", "elements": "str", "required": True},
            "label_selector": {"type": "str", "required": True},
            "kubeconfig": {"type": "path"},
            "context": {"type": "str"},
        },
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    params = module.params
    try:
        api = config.new_client_from_config(config_file=params["kubeconfig"], context=params["context"])
        resources = list_objects(DynamicClient(api), params["kinds"], params["namespaces"], params["label_selector"])
    except ApiException as err:
        module.fail_json(msg=f"the API server refused to list the objects: HTTP {err.status} {err.reason}")
    except Exception as err:  # noqa: BLE001 - a connection or kubeconfig error, shown as it is
        module.fail_json(msg=f"cannot list the objects: {err}")
    module.exit_json(changed=False, resources=resources)


if __name__ == "__main__":
    main()
