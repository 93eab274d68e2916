"""Options and return values as one table each, nested entries named by their path."""

from __future__ import annotations

from reference_tables import options_table, returns_table, table, value


def no_pages(kind, name):
    return None


SUBJECT = ("module", "example")


def rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in text.splitlines()[2:]]


def test_every_option_has_its_type_default_and_description():
    options = {
        "size": {"type": "str", "default": "50Gi", "description": ["A quantity such as C(50Gi)."]},
        "name": {"type": "str", "required": True, "description": "The name."},
    }

    assert rows(options_table(options, no_pages, SUBJECT)) == [
        ["`size`", "str", "`50Gi`", "A quantity such as `50Gi`."],
        ["`name`<br>required", "str", "", "The name."],
    ]


def test_suboptions_of_a_list_and_of_a_dict_are_rows_named_by_their_path():
    options = {
        "jobs": {
            "type": "list",
            "elements": "dict",
            "description": "Jobs.",
            "options": {"cron": {"type": "str", "description": "When.", "suboptions": {}}},
        },
        "config": {
            "type": "dict",
            "description": "Config.",
            "suboptions": {"host": {"type": "str", "description": "H"}},
        },
    }

    names = [row[0] for row in rows(options_table(options, no_pages, SUBJECT))]

    assert names == ["`jobs`", "`jobs[].cron`", "`config`", "`config.host`"]
    assert rows(options_table(options, no_pages, SUBJECT))[0][1] == "list of dict"


def test_choices_aliases_and_configuration_sources_are_told_in_the_description():
    options = {
        "backend": {
            "type": "str",
            "choices": ["sdk", "connect"],
            "aliases": ["kind"],
            "description": "Which.",
            "env": [{"name": "OP_BACKEND"}],
            "vars": [{"name": "onepassword_backend"}, {"name": "op_backend"}],
            "ini": [{"key": "backend", "section": "onepassword"}],
        }
    }

    (row,) = rows(options_table(options, no_pages, SUBJECT))

    assert row[3] == (
        "Which.<br><br>Choices: `sdk`, `connect`.<br><br>Aliases: `kind`.<br><br>"
        "Variables: `onepassword_backend`, `op_backend`.<br><br>Environment variable: `OP_BACKEND`.<br><br>"
        "ansible.cfg: `backend` in section `onepassword`."
    )


def test_choices_with_descriptions_are_each_described():
    options = {"mode": {"type": "str", "choices": {"a": "First C(x).", "b": "Second."}, "description": "Mode."}}

    (row,) = rows(options_table(options, no_pages, SUBJECT))

    assert row[3] == "Mode.<br><br>Choices: `a`: First `x`.; `b`: Second."


def test_a_pipe_does_not_split_a_cell():
    options = {"filter": {"type": "str", "description": "Use C(a | b)."}}

    assert "`a \\| b`" in options_table(options, no_pages, SUBJECT)


def test_return_values_name_nested_keys_and_when_they_are_returned():
    returns = {
        "objects": {
            "type": "list",
            "elements": "dict",
            "returned": "always",
            "description": "Objects.",
            "contains": {"name": {"type": "str", "returned": "always", "description": "Its name.", "sample": "x"}},
        }
    }

    assert rows(returns_table(returns, no_pages, SUBJECT)) == [
        ["`objects`", "list of dict", "always", "Objects."],
        ["`objects[].name`", "str", "always", "Its name.<br><br>Sample: `x`"],
    ]


def test_values_read_as_yaml():
    assert value(True) == "true"
    assert value("") == '""'
    assert value([]) == "[]"
    assert value({"app": "mlflow", "ports": [443]}) == "{app: mlflow, ports: [443]}"
    assert value("0 3 * * *") == "0 3 * * *"


def test_a_table_has_a_header_and_one_line_per_row():
    assert table(["a", "b"], [["1", "two\nlines"]]) == "| a | b |\n|---|---|\n| 1 | two lines |"
