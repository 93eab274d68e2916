from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils import httproute
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.discovery import Resources

APIS = {"gateway.networking.k8s.io/v1": {"HTTPRoute": {"name": "httproutes", "namespaced": True, "preferred": True}}}


def route(name, *hosts):
    return {"metadata": {"name": name}, "spec": {"hostnames": list(hosts)}}


class Lists:
    """A Kube that answers each list with the next of `answers` (the last one again at the end)."""

    def __init__(self, *answers):
        self.answers, self.paths = list(answers), []

    def list(self, path):
        self.paths.append(path)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_only_routes_with_the_host_count():
    routes = [route("a", "grafana.example.com"), route("b", "mlflow.example.com", "x"), {"metadata": {"name": "c"}}]
    assert httproute.routes_for_host(routes, "mlflow.example.com") == ["b"]


def test_the_wait_ends_when_the_controller_wrote_the_route():
    kube, clock = Lists([], [route("ak-outpost-mlflow", "mlflow.example.com")]), Clock()

    found = httproute.wait_for_route(
        kube, Resources(APIS), "authentik", "mlflow.example.com", 60, sleep=clock.sleep, clock=clock
    )

    assert found == ["ak-outpost-mlflow"]
    assert kube.paths == ["/apis/gateway.networking.k8s.io/v1/namespaces/authentik/httproutes"] * 2
    assert clock.now == 2.0


def test_the_wait_ends_empty_at_the_timeout():
    kube, clock = Lists([route("a", "other.example.com")]), Clock()

    found = httproute.wait_for_route(
        kube, Resources(APIS), "authentik", "mlflow.example.com", 5, sleep=clock.sleep, clock=clock
    )

    assert found == []
    assert clock.now == 5.0
    assert len(kube.paths) == 4
