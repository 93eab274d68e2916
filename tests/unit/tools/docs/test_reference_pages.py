"""What a role's and a plugin's generated reference holds."""

from __future__ import annotations

from reference_pages import plugin_block, plugins_index, role_block, roles_index
from reference_source import Plugin, Role


def page_of(kind, name):
    return f"{name}_{kind}.md"


def web_role(**entry_points: dict) -> Role:
    return Role(name="web", source="roles/web/meta/argument_specs.yml", entry_points=entry_points)


def test_a_role_block_has_its_entry_point_summary_description_and_variables():
    role = web_role(
        main={
            "short_description": "Serve C(web).",
            "description": ["Applies it.", "Verifies it."],
            "options": {"web_port": {"type": "int", "default": 80, "description": "Port."}},
        }
    )

    block = role_block(role, page_of)

    assert block.startswith("## Variables\n\nGenerated from `roles/web/meta/argument_specs.yml` by `make docs`.")
    assert "Entry point `main`: Serve `web`.\n\nApplies it.\n\nVerifies it." in block
    assert "| `web_port` | int | `80` | Port. |" in block


def test_a_role_with_several_entry_points_has_a_heading_for_each():
    role = web_role(main={"short_description": "Main."}, verify={"short_description": "Checks."})

    block = role_block(role, page_of)

    assert "### Entry point `main`\n\nMain.\n\nNo variables." in block
    assert "### Entry point `verify`\n\nChecks.\n\nNo variables." in block


def test_a_plugin_block_has_the_sections_its_documentation_fills():
    plugin = Plugin(
        type="module",
        name="apply",
        source="plugins/modules/apply.py",
        doc={
            "short_description": "Apply objects",
            "description": ["Applies O(objects)."],
            "has_action": True,
            "requirements": ["kubernetes"],
            "options": {"objects": {"type": "list", "elements": "dict", "required": True, "description": "What."}},
            "attributes": {"check_mode": {"support": "full", "description": "Check mode."}},
            "notes": ["Runs on the controller."],
            "seealso": [{"module": "homelab.mlflow.verify"}, {"link": "https://example.com", "name": "Ex"}],
        },
        examples="\n- homelab.mlflow.apply:\n    objects: []\n",
        returns={"changed": {"type": "bool", "returned": "always", "description": "Whether."}},
    )

    block = plugin_block(plugin, page_of)

    assert block.startswith(
        "## Reference\n\nApply objects. Generated from `plugins/modules/apply.py` by `make docs`. Runs on the "
        "controller, as an action plugin of the same name.\n\nApplies `objects`."
    )
    for heading in ("### Options", "### Attributes", "### Notes", "### See also", "### Examples", "### Return values"):
        assert f"\n{heading}\n" in block
    assert "| `check_mode` | yes | Check mode. |" in block
    assert "- [homelab.mlflow.verify](verify_module.md)\n- [Ex](https://example.com)" in block
    assert "```yaml\n- homelab.mlflow.apply:\n    objects: []\n```" in block


def test_a_plugin_block_leaves_out_what_its_documentation_lacks():
    plugin = Plugin(type="test", name="cidr", source="plugins/test/cidr.py", doc={"short_description": "Is a CIDR."})

    block = plugin_block(plugin, page_of)

    assert block == "## Reference\n\nIs a CIDR. Generated from `plugins/test/cidr.py` by `make docs`.\n"


def test_positional_arguments_given_as_one_string_are_listed_each():
    plugin = Plugin(type="filter", name="q", source="s", doc={"short_description": "Q", "positional": "_input, safe"})

    assert "Positional: `_input`, `safe`." in plugin_block(plugin, page_of)


def test_the_indexes_list_every_role_and_plugin_by_kind():
    roles = [Role(name="web", source="s", entry_points={"main": {"short_description": "Serves."}})]
    plugins = [
        Plugin(type="filter", name="plan", source="s", doc={"short_description": "Plans."}),
        Plugin(type="filter", name="kinds", source="s", doc={}, documented_by="plan"),
        Plugin(type="module", name="apply", source="s", doc={"short_description": "Applies."}),
    ]

    assert "| [web](web_role.md) | Serves. |" in roles_index(roles, page_of)
    index = plugins_index(plugins, page_of, topics=[("kubernetes.md", "The Kubernetes actions")])
    assert "## Filter plugins" in index
    assert "## Modules" in index
    assert "| [`homelab.mlflow.plan`](plan_filter.md) | Plans. |" in index
    assert "| `homelab.mlflow.kinds` | documented with [plan](plan_filter.md) |" in index
    assert "- [The Kubernetes actions](kubernetes.md)" in index
