"""plugins/module_utils/checks/names.py: the names Kubernetes and PostgreSQL accept, at their boundaries."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mlflow", True),
        ("a", True),
        ("0", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("", False),
        ("-a", False),
        ("a-", False),
        ("MLflow", False),
        ("ml_flow", False),
        ("ml.flow", False),
        (None, False),
        (5, False),
    ],
)
def test_dns_label(value, expected):
    assert names.is_dns_label(value) is expected


def test_dns_label_takes_a_lower_limit():
    assert names.is_dns_label("a" * 52, max_length=52)
    assert not names.is_dns_label("a" * 53, max_length=52)


@pytest.mark.parametrize(("value", "expected"), [("mlflow-postgres", True), ("1mlflow", False), ("a-", False)])
def test_dns_1035_label_starts_with_a_letter(value, expected):
    assert names.is_dns_1035_label(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("registry-credentials", True),
        ("cluster.local", True),
        (".cluster.local", False),
        ("cluster.local.", False),
        ("a..b", False),
        ("a.-b", False),
        (".".join(["a" * 63] * 4), False),  # 255 characters
        (".".join(["a" * 63] * 3 + ["a" * 61]), True),  # 253
    ],
)
def test_dns_subdomain(value, expected):
    assert names.is_dns_subdomain(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("mlflow.example.com", True), ("localhost", True), ("10.0.0.1", False), ("mlflow.example.com:443", False)],
)
def test_host_name_is_no_ip_address(value, expected):
    assert names.is_host_name(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("kubernetes.io/hostname", True),
        ("topology.kubernetes.io/zone", True),
        ("app", True),
        ("App_Name.x", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("/name", False),
        ("Example.com/name", False),
        ("a/b/c", False),
        ("name-", False),
        ("", False),
    ],
)
def test_label_key(value, expected):
    assert names.is_label_key(value) is expected


@pytest.mark.parametrize(("value", "expected"), [("", True), ("proxy", True), ("a b", False), ("a" * 64, False)])
def test_label_value(value, expected):
    assert names.is_label_value(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("mlflow", True), ("_x1", True), ("a" * 63, True), ("a" * 64, False), ("ml-flow", False), ("1db", False)],
)
def test_postgres_identifier(value, expected):
    assert names.is_postgres_identifier(value) is expected


@pytest.mark.parametrize(("value", "expected"), [("HOME", True), ("_X1", True), ("1X", False), ("A-B", False)])
def test_environment_variable_name(value, expected):
    assert names.is_environment_variable_name(value) is expected
