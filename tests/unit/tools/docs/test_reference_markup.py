"""Ansible's markup becomes Markdown that GitHub renders as meant and that reads well as source."""

from __future__ import annotations

import pytest
from reference_markup import code, escape, paragraphs

PAGES = {("module", "k8s_apply"): "k8s_apply.md", ("role", "postgres"): "../roles/postgres.md"}


def page_of(kind, name):
    return PAGES.get((kind, name))


def test_code_and_values_are_backtick_spans():
    text = paragraphs("Set C(a b) to V(true), or E(KUBECONFIG).", page_of)

    assert text == "Set `a b` to `true`, or `KUBECONFIG`."


def test_a_code_span_holds_backticks():
    assert code("a`b") == "`` a`b ``"
    assert code("plain") == "`plain`"


def test_text_is_escaped_only_where_markdown_would_misread_it():
    assert escape("snake_case and <ns> and *x* and _y_") == "snake_case and &lt;ns> and \\*x\\* and \\_y\\_"


def test_plugins_of_the_collection_link_to_their_pages_and_others_to_the_ansible_docs():
    text = paragraphs("See M(homelab.mlflow.k8s_apply) and M(kubernetes.core.k8s).", page_of)

    assert "[homelab.mlflow.k8s_apply](k8s_apply.md)" in text
    assert (
        "[kubernetes.core.k8s](https://docs.ansible.com/ansible/latest/collections/kubernetes/core/k8s_module.html)"
        in text
    )


def test_options_of_another_plugin_or_role_link_to_their_section():
    text = paragraphs(
        "O(homelab.mlflow.k8s_apply#module:known), RV(homelab.mlflow.k8s_apply#module:resources) and "
        "O(homelab.mlflow.postgres#role:main:postgres_instances).",
        page_of,
    )

    assert "[`known`](k8s_apply.md#options)" in text
    assert "[`resources`](k8s_apply.md#return-values)" in text
    assert "[`postgres_instances`](../roles/postgres.md#variables)" in text


def test_options_of_the_subject_itself_are_not_linked():
    text = paragraphs("O(known) and O(wait=true)", page_of, subject=("module", "k8s_apply"))

    assert text == "`known` and `wait=true`"


def test_a_plugin_without_a_page_is_named_without_a_link():
    assert paragraphs("M(homelab.mlflow.nowhere)", page_of) == "homelab.mlflow.nowhere"


def test_paragraphs_are_joined_by_the_separator():
    assert paragraphs(["one", "two"], page_of, separator="<br><br>") == "one<br><br>two"


def test_broken_markup_fails_instead_of_rendering_an_error_into_the_page():
    with pytest.raises(ValueError, match="C"):
        paragraphs("C(unclosed", page_of)
