"""The arguments the test cluster gives each stand-in (tools/testcluster/standin_args.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from standin_args import POSTGRES_LISTEN_ENV, standin_args


@dataclass
class Layout:
    state: Path


STATE = Layout(Path("/state"))


def test_the_longhorn_standin_keeps_its_volumes_in_the_state_directory():
    assert standin_args(STATE, "longhorn_provisioner", node_ip=None) == ["--volumes-dir=/state/volumes"]


def test_the_cnpg_standin_runs_servers_only_given_a_node_ip(monkeypatch):
    monkeypatch.delenv(POSTGRES_LISTEN_ENV, raising=False)

    assert standin_args(STATE, "cnpg_operator", node_ip=None) == []
    assert standin_args(STATE, "cnpg_operator", node_ip="10.0.0.5") == [
        "--postgres-listen=10.0.0.5",
        "--postgres-dir=/state/postgres",
    ]


def test_the_environment_asks_for_servers_without_a_real_node(monkeypatch):
    monkeypatch.setenv(POSTGRES_LISTEN_ENV, "192.0.2.2")

    assert standin_args(STATE, "cnpg_operator", node_ip=None)[0] == "--postgres-listen=192.0.2.2"
    assert standin_args(STATE, "cnpg_operator", node_ip="10.0.0.5")[0] == "--postgres-listen=10.0.0.5"


def test_other_standins_get_nothing_more():
    assert standin_args(STATE, "onepassword_operator", node_ip="10.0.0.5") == []
