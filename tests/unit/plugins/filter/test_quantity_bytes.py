"""plugins/filter/quantity_bytes.py: sizes in bytes, and Ansible loads it (with the value tests of plugins/test/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_runs import ansible_env, ansible_playbook

from ansible_collections.homelab.mlflow.plugins.filter.quantity_bytes import FilterModule, quantity_bytes

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(("value", "expected"), [("50Gi", 53687091200), ("100G", 10**11), (1024, 1024), ("1.5", 2)])
def test_quantity_bytes(value, expected):
    assert quantity_bytes(value) == expected


@pytest.mark.parametrize("value", ["20GB", "", None, "1e9"])
def test_not_a_quantity_is_an_error(value):
    with pytest.raises(AnsibleFilterError, match=r"quantity_bytes: .* is not a Kubernetes quantity"):
        quantity_bytes(value)


def test_the_filter_module_offers_it():
    assert FilterModule().filters() == {"quantity_bytes": quantity_bytes}


PLAYBOOK = """- name: Use the value filters and tests
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Every one answers as expected
      ansible.builtin.assert:
        that:
          - "'50Gi' | homelab.mlflow.quantity_bytes > '50G' | homelab.mlflow.quantity_bytes"
          - "'20Gi' is homelab.mlflow.quantity"
          - "'0' is not homelab.mlflow.quantity"
          - "'0' is homelab.mlflow.quantity(positive=false, milli=false)"
          - "'mlflow' is homelab.mlflow.dns_label"
          - "('a' * 53) is not homelab.mlflow.dns_label(max_length=52)"
          - "'fd00::10/128' is homelab.mlflow.cidr"
          - "'10.96.0.1/12' is not homelab.mlflow.cidr(network=true)"
          - "'0 3 * * *' is homelab.mlflow.cron"
          - "'@daily' is homelab.mlflow.cron(macros=true)"
          - "'0 0 3 * * *' is homelab.mlflow.cron(seconds=true)"
          - "['198.51.100.7', 'fd00::10'] | map('homelab.mlflow.host_cidr') | list
            == ['198.51.100.7/32', 'fd00::10/128']"
"""


def test_ansible_loads_the_value_filters_and_tests(tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    env = ansible_env(REPO, drop_prefixes=("ANSIBLE_",))

    result = ansible_playbook(REPO, tmp_path / "play.yml", "localhost,", "-c", "local", timeout=120, env=env)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
