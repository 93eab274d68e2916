"""The collection's documentation as Ansible reads it: one `ansible-doc --metadata-dump` of the collection
(doc fragments merged, by the loaders ansible-doc itself uses), split into roles and plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

COLLECTION = "homelab.mlflow"
# Entries of the dump that are not the collection's plugins: Ansible's playbook keywords, and the roles (read apart).
NOT_PLUGINS = ("keyword", "role")
# Where Ansible reads a role's argument_specs from, first found first.
ROLE_SPEC_FILES = ("meta/argument_specs.yml", "meta/argument_specs.yaml", "meta/main.yml", "meta/main.yaml")


class DocsError(Exception):
    """The documentation cannot be read: the message says what to fix."""


@dataclass(frozen=True)
class Role:
    name: str
    source: str  # the argument_specs file, relative to the checkout
    entry_points: dict

    @property
    def fqcn(self) -> str:
        return f"{COLLECTION}.{self.name}"


@dataclass(frozen=True)
class Plugin:
    type: str  # module, lookup, callback, filter, test, ...
    name: str
    source: str  # the file holding DOCUMENTATION, relative to the checkout
    doc: dict
    examples: str = ""
    returns: dict = field(default_factory=dict)
    # A filter or test without documentation of its own, described by the one of this name in the same file.
    documented_by: str | None = None

    @property
    def fqcn(self) -> str:
        return f"{COLLECTION}.{self.name}"


@dataclass(frozen=True)
class Reference:
    roles: list[Role]
    plugins: list[Plugin]


def dump_metadata(repo: Path) -> dict:
    """ansible-doc's metadata dump of the collection, read from the checkout with its ansible.cfg; ANSIBLE_*
    settings of the caller are left out, so that no other copy of the collection is read."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(repo / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    ansible_doc = Path(sys.executable).parent / "ansible-doc"
    run = subprocess.run(
        [str(ansible_doc), "--metadata-dump", "--no-fail-on-errors", COLLECTION],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise DocsError(f"ansible-doc --metadata-dump {COLLECTION} failed:\n{run.stderr.strip()}")
    return json.loads(run.stdout)["all"]


def read_reference(dump: dict, repo: Path) -> Reference:
    """Roles and plugins of the dump, sorted by name. Fails on a plugin whose documentation ansible-doc could not
    read, and on documentation read from anywhere but `repo` (another installed copy of the collection)."""
    problems: list[str] = []
    roles = []
    for fqcn, entry in sorted(dump.get("role", {}).items()):
        if "error" in entry:
            problems.append(f"role {fqcn}: {entry['error']}")
            continue
        role_dir = Path(entry["path"]) / "roles" / _short(fqcn)
        spec_file = next((role_dir / name for name in ROLE_SPEC_FILES if (role_dir / name).exists()), role_dir)
        roles.append(
            Role(
                name=_short(fqcn),
                source=_relative(spec_file, repo, fqcn, problems),
                entry_points=entry.get("entry_points") or {},
            )
        )
    plugins = []
    for plugin_type in sorted(set(dump) - set(NOT_PLUGINS)):
        for fqcn, entry in sorted(dump[plugin_type].items()):
            if "error" in entry:
                problems.append(f"{plugin_type} {fqcn}: {entry['error']}")
                continue
            doc = entry.get("doc") or {}
            name = _short(fqcn)
            documented_name = doc.get("name") or doc.get("module") or name
            plugins.append(
                Plugin(
                    type=plugin_type,
                    name=name,
                    source=_relative(Path(doc["filename"]), repo, fqcn, problems),
                    doc=doc,
                    examples=entry.get("examples") or "",
                    returns=entry.get("return") or {},
                    documented_by=None if documented_name == name else documented_name,
                )
            )
    if problems:
        raise DocsError("ansible-doc could not read the documentation of:\n" + "\n".join(problems))
    return Reference(roles=roles, plugins=plugins)


def _short(fqcn: str) -> str:
    return fqcn.removeprefix(f"{COLLECTION}.")


def _relative(path: Path, repo: Path, fqcn: str, problems: list[str]) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        problems.append(f"{fqcn}: read from {path}, not from {repo} (make setup links the checkout as {COLLECTION})")
        return path.as_posix()
