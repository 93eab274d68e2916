# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The operations of the `authentik_blueprint` module: a blueprint instance present and applied, or absent.

`changed` reports only what this run changed (or would, in check mode); `diff` shows the
instance's content, context and enabled state before and after, as YAML.
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_content import (
    content_hash,
    load_blueprint_content,
    normalize_blueprint_content,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_state import (
    STATUS_SUCCESSFUL,
    blueprint_summary,
    instance_enabled,
    instance_status,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_yaml import dump_blueprint_yaml
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError


def blueprint_diff_text(name, content, context, enabled):
    """A readable YAML rendering of what the module manages, for --diff."""
    document = {"name": name, "enabled": enabled, "context": context or {}}
    text = dump_blueprint_yaml(document)
    try:
        parsed = load_blueprint_content(content)
    except AuthentikError:
        parsed = content
    return text + dump_blueprint_yaml({"content": parsed})


def _remote_state(instance):
    try:
        content = normalize_blueprint_content(instance.content or "")
    except AuthentikError:
        # Stored content this module cannot parse never equals what it would write.
        content = instance.content or ""
    return {"content": content, "context": instance.context or {}, "enabled": instance_enabled(instance)}


def _needs_apply(instance):
    """Whether Authentik has not yet applied the instance's current content successfully."""
    if instance_status(instance) != STATUS_SUCCESSFUL:
        return True
    content = instance.content or ""
    # Authentik's hash also covers files that `!File` tags read: it cannot be recomputed here.
    if "!File" in content:
        return False
    return instance.last_applied_hash != content_hash(content)


def ensure_blueprint_present(
    client,
    name,
    content,
    context=None,
    enabled=True,
    apply="on_change",
    wait=True,
    wait_timeout=120.0,
    wait_sleep=1.0,
    check_mode=False,
):
    """Make the blueprint instance `name` hold content, context and enabled, and apply it.

    `changed` is true when the instance was created or its content, context or enabled state
    changed, or when Authentik had not applied its current content successfully and this run
    applied it. With apply=always an unchanged, applied blueprint is applied again (restoring
    objects changed by hand), which is not reported as a change.
    """
    desired_content = normalize_blueprint_content(content)
    desired_context = dict(context or {})
    desired = {"content": desired_content, "context": desired_context, "enabled": bool(enabled)}
    result = {"changed": False, "applied": False, "log": [], "blueprint": {}}

    existing = client.find_blueprint(name)
    if existing is None:
        before = None
        update_needed = True
    else:
        before = _remote_state(existing)
        update_needed = before != desired or (existing.path or "") != ""
    result["diff"] = {
        "before_header": f"Authentik blueprint {name}",
        "after_header": f"Authentik blueprint {name}",
        "before": "" if before is None else blueprint_diff_text(name, **before),
        "after": blueprint_diff_text(name, **desired),
    }

    apply_wanted = desired["enabled"] and (
        update_needed or apply == "always" or (existing is not None and _needs_apply(existing))
    )
    result["changed"] = update_needed or (apply_wanted and (existing is None or _needs_apply(existing)))
    if check_mode:
        result["applied"] = apply_wanted
        result["blueprint"] = blueprint_summary(existing)
        return result

    instance = existing
    if existing is None:
        instance = client.create_blueprint(name, desired_content, desired_context, desired["enabled"])
    elif update_needed:
        instance = client.update_blueprint(existing.pk, name, desired_content, desired_context, desired["enabled"])

    if apply_wanted:
        instance, result["log"] = client.apply_and_wait(instance, wait=wait, timeout=wait_timeout, interval=wait_sleep)
        result["applied"] = True
    result["blueprint"] = blueprint_summary(instance)
    return result


def ensure_blueprint_absent(client, name, check_mode=False):
    """Delete the blueprint instance `name` if it exists.

    Authentik keeps the objects a blueprint created when the instance goes; a blueprint whose
    entries say `state: absent` removes them.
    """
    existing = client.find_blueprint(name)
    result = {"changed": existing is not None, "applied": False, "log": [], "blueprint": {}}
    if existing is None:
        result["diff"] = {"before": "", "after": ""}
        return result
    before = _remote_state(existing)
    result["diff"] = {
        "before_header": f"Authentik blueprint {name}",
        "after_header": f"Authentik blueprint {name}",
        "before": blueprint_diff_text(name, **before),
        "after": "",
    }
    result["blueprint"] = blueprint_summary(existing)
    if not check_mode:
        client.delete_blueprint(existing.pk, name)
    return result
