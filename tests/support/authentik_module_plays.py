"""What the tests that run the collection's Authentik modules through ansible-playbook against the fake
Authentik share: the play around their tasks."""

from __future__ import annotations

import textwrap

# The connection and fast retries for every Authentik module; url and token come in as extra variables.
GROUP_DEFAULTS = """\
    group/homelab.mlflow.authentik:
      host: "{{ authentik_url }}"
      token: "{{ authentik_token }}"
      retry_delay: 0.01
"""
# Fast polling for a blueprint to be applied.
BLUEPRINT_WAITS = """\
    homelab.mlflow.authentik_blueprint:
      wait_sleep: 0.02
      wait_timeout: 20
"""


def authentik_play(name: str, tasks: str, blueprint_waits: bool = False) -> str:
    """A play `name` on localhost running `tasks` (YAML text at any indentation) against the fake
    Authentik, retrying fast and, with `blueprint_waits`, polling for blueprints fast."""
    defaults = GROUP_DEFAULTS + (BLUEPRINT_WAITS if blueprint_waits else "")
    header = f"- name: {name}\n  hosts: localhost\n  gather_facts: false\n  module_defaults:\n{defaults}  tasks:\n"
    return header + textwrap.indent(textwrap.dedent(tasks), "    ")
