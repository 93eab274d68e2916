"""The documentation is read as Ansible reads it, from this checkout only, and unreadable documentation fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from reference_source import DocsError, dump_metadata, read_reference

REPO = Path(__file__).resolve().parents[4]


def fake_dump(repo: Path) -> dict:
    collection = repo / ".collections/ansible_collections/homelab/mlflow"
    return {
        "keyword": {"when": {}},
        "role": {"homelab.mlflow.web": {"path": str(collection), "entry_points": {"main": {"options": {}}}}},
        "module": {
            "homelab.mlflow.apply": {
                "doc": {"module": "apply", "filename": str(collection / "plugins/modules/apply.py")},
                "examples": "- homelab.mlflow.apply:\n",
                "return": {"changed": {"type": "bool"}},
            }
        },
        "filter": {
            "homelab.mlflow.plan": {"doc": {"name": "plan", "filename": str(collection / "plugins/filter/plan.py")}},
            "homelab.mlflow.kinds": {"doc": {"name": "plan", "filename": str(collection / "plugins/filter/plan.py")}},
        },
    }


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "roles/web/meta").mkdir(parents=True)
    (tmp_path / "roles/web/meta/argument_specs.yml").write_text("argument_specs: {}\n")
    (tmp_path / ".collections/ansible_collections/homelab").mkdir(parents=True)
    (tmp_path / ".collections/ansible_collections/homelab/mlflow").symlink_to(tmp_path)
    return tmp_path


def test_roles_and_plugins_are_read_with_their_sources_in_the_checkout(checkout):
    reference = read_reference(fake_dump(checkout), checkout)

    (role,) = reference.roles
    assert (role.name, role.source, role.fqcn) == ("web", "roles/web/meta/argument_specs.yml", "homelab.mlflow.web")
    plugins = {(plugin.type, plugin.name): plugin for plugin in reference.plugins}
    assert set(plugins) == {("module", "apply"), ("filter", "plan"), ("filter", "kinds")}
    assert plugins["module", "apply"].source == "plugins/modules/apply.py"
    assert plugins["module", "apply"].returns == {"changed": {"type": "bool"}}


def test_a_filter_sharing_another_ones_documentation_is_marked_as_documented_by_it(checkout):
    plugins = {plugin.name: plugin for plugin in read_reference(fake_dump(checkout), checkout).plugins}

    assert plugins["kinds"].documented_by == "plan"
    assert plugins["plan"].documented_by is None


def test_documentation_ansible_doc_could_not_read_fails_naming_the_plugin(checkout):
    dump = fake_dump(checkout)
    dump["module"]["homelab.mlflow.broken"] = {"error": "Unable to parse DOCUMENTATION"}

    with pytest.raises(DocsError, match=r"module homelab\.mlflow\.broken: Unable to parse DOCUMENTATION"):
        read_reference(dump, checkout)


def test_documentation_read_from_another_copy_of_the_collection_fails(checkout, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("installed")

    with pytest.raises(DocsError, match=r"not from .*make setup"):
        read_reference(fake_dump(elsewhere), checkout)


def test_the_dump_of_this_checkout_has_every_role_and_plugin_file():
    reference = read_reference(dump_metadata(REPO), REPO)

    assert {role.name for role in reference.roles} == {
        p.parent.parent.name for p in REPO.glob("roles/*/meta/argument_specs.yml")
    }
    modules = {plugin.name for plugin in reference.plugins if plugin.type == "module"}
    assert modules == {path.stem for path in REPO.glob("plugins/modules/*.py") if path.stem != "__init__"}
    assert all((REPO / plugin.source).is_file() for plugin in reference.plugins)
