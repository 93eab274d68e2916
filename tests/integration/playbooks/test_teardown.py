"""playbooks/teardown.yml against the local test cluster: two targets deployed, one removed.

site.yml deploys two namespaces (two inventory hosts) with inventories/local's settings, the fake
Authentik included. The teardown of one target, first in check mode with --diff (nothing goes,
everything is listed), then for real: its workloads, policies, RecurringJobs and Authentik objects
go, its PVC, CNPG Cluster and Secrets stay, the other target is untouched; a second teardown changes
nothing. site.yml then brings the stack back on the kept data (the same PVC and Cluster), and a
teardown with teardown_delete_data=true removes the data and the namespace.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

RECURRING_JOBS = [{"name": "snapshot", "task": "snapshot", "cron": "0 3 * * *", "retain": 3}]
LONGHORN = "longhorn-system"


def _inventory(tmp_path, repo_root, namespaces):
    hosts = {
        ns: {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "mlflow_namespace": ns,
            "mlflow_external_host": f"{ns}.localtest.me",
            "postgres_password_file": str(repo_root / ".secrets" / "local" / "postgres_password"),
            "storage_recurring_jobs": RECURRING_JOBS,
        }
        for ns in namespaces
    }
    path = tmp_path / "targets.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return path


def _authentik(settings, path):
    request = urllib.request.Request(  # noqa: S310 - the fake's local http URL
        settings["authentik_host"].rstrip("/") + "/api/v3" + path,
        headers={"Authorization": f"Bearer {settings['authentik_token']}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the fake's local URL
        return json.loads(answer.read())["results"]


def _sso(settings, ns):
    name = f"mlflow-{ns}"
    return {
        "blueprint": _authentik(settings, f"/managed/blueprints/?name={name}"),
        "provider": _authentik(settings, f"/providers/proxy/?name__iexact={name}"),
        "application": _authentik(settings, f"/core/applications/?slug={name}&superuser_full_list=true"),
        "outpost": _authentik(settings, f"/outposts/instances/?name__iexact={name}"),
    }


def _namespace_exists(core, name):
    try:
        core.read_namespace(name)
    except ApiException as err:
        if err.status == 404:
            return False
        raise
    return True


def _state(k8s, ns):
    """What the stack has in the namespace (and in Longhorn's), by kind: names."""
    core, apps, batch = client.CoreV1Api(k8s), client.AppsV1Api(k8s), client.BatchV1Api(k8s)
    networking, custom = client.NetworkingV1Api(k8s), client.CustomObjectsApi(k8s)
    jobs = custom.list_namespaced_custom_object("longhorn.io", "v1beta2", LONGHORN, "recurringjobs")["items"]
    clusters = custom.list_namespaced_custom_object("postgresql.cnpg.io", "v1", ns, "clusters")["items"]
    cilium = custom.list_namespaced_custom_object("cilium.io", "v2", ns, "ciliumnetworkpolicies")["items"]
    return {
        "Deployment": {d.metadata.name for d in apps.list_namespaced_deployment(ns).items},
        # CloudNativePG's Services (owned by the Cluster) stay with the data.
        "Service": {s.metadata.name for s in core.list_namespaced_service(ns).items if not s.metadata.owner_references},
        "Job": {j.metadata.name for j in batch.list_namespaced_job(ns).items},
        "CronJob": {j.metadata.name for j in batch.list_namespaced_cron_job(ns).items},
        "NetworkPolicy": {p.metadata.name for p in networking.list_namespaced_network_policy(ns).items}
        | {p["metadata"]["name"] for p in cilium},
        "RecurringJob": {j["metadata"]["name"] for j in jobs if j["metadata"]["name"].startswith(f"{ns}-")},
        "PVC": {c.metadata.name: c.metadata.uid for c in core.list_namespaced_persistent_volume_claim(ns).items},
        "Cluster": {c["metadata"]["name"]: c["metadata"]["uid"] for c in clusters},
        "Secret": {s.metadata.name for s in core.list_namespaced_secret(ns).items},
    }


def test_teardown_keeps_data_and_the_other_target(testcluster, k8s, repo_root, run_ansible, play_recap, tmp_path):
    suffix = uuid.uuid4().hex[:6]
    gone, other = f"td-{suffix}", f"tk-{suffix}"
    inventory = _inventory(tmp_path, repo_root, [gone, other])
    settings = testcluster.authentik_settings()
    env = {
        "HOMELAB_TESTCLUSTER_DIR": str(testcluster.state),
        "HOMELAB_TESTCLUSTER_PORT_BASE": str(testcluster.layout.port_base),
    }
    common = ("-i", "inventories/local", "-i", str(inventory))

    def playbook(name, *args, limit=gone):
        return run_ansible("ansible-playbook", name, *common, "--limit", limit, *args, env=env, timeout=1200)

    site = playbook(
        "site.yml", "--skip-tags", "drift_cronjob", "-e", "drift_cronjob_enabled=false", limit=f"{gone},{other}"
    )
    assert site.returncode == 0, site.output[-6000:]
    before, other_before = _state(k8s, gone), _state(k8s, other)
    for kind in ("Deployment", "NetworkPolicy", "RecurringJob", "PVC", "Cluster"):
        assert before[kind], (kind, before)
    assert _sso(settings, gone)["provider"]
    assert _sso(settings, other)["provider"]

    # Check mode with --diff: lists, removes nothing.
    check = playbook("playbooks/teardown.yml", "--check", "--diff")
    assert check.returncode == 0, check.output[-6000:]
    listed = " ".join(check.stdout.split())  # the callback folds long lines
    assert f"Deployment {gone}/mlflow," in listed
    assert f"RecurringJob longhorn-system/{gone}-snapshot" in listed
    assert (
        f"Kept: Secret {gone}/mlflow-secrets, Cluster {gone}/mlflow-postgres, "
        f"PersistentVolumeClaim {gone}/mlflow-artifacts" in listed
    )
    assert f"-provider mlflow-{gone}" in listed  # the diff of Authentik's objects
    assert _state(k8s, gone) == before
    assert all(_sso(settings, gone).values())

    # The real run, by the collection's FQCN.
    done = playbook("homelab.mlflow.teardown")
    assert done.returncode == 0, done.output[-6000:]
    after = _state(k8s, gone)
    for kind in ("Deployment", "Service", "Job", "CronJob", "NetworkPolicy", "RecurringJob"):
        assert not after[kind], (kind, after[kind])
    assert after["PVC"] == before["PVC"]
    assert after["Cluster"] == before["Cluster"]
    # The credentials Secret (and CloudNativePG's own, where it makes one) stay; MLflow's backend store goes.
    assert "mlflow-secrets" in after["Secret"]
    assert after["Secret"] == before["Secret"] - {"mlflow-backend-store"}, after["Secret"]
    sso = _sso(settings, gone)
    assert not any(sso.values()), sso
    assert _state(k8s, other) == other_before
    assert all(_sso(settings, other).values())

    again = playbook("homelab.mlflow.teardown")
    assert again.returncode == 0, again.output[-6000:]
    assert play_recap(again.stdout, gone)["changed"] == 0, again.stdout[-4000:]

    # site.yml converges again on the kept data.
    back = playbook("site.yml", "--skip-tags", "drift_cronjob", "-e", "drift_cronjob_enabled=false")
    assert back.returncode == 0, back.output[-6000:]
    restored = _state(k8s, gone)
    assert restored["Deployment"]
    assert restored["NetworkPolicy"]
    assert restored["PVC"] == before["PVC"]
    assert restored["Cluster"] == before["Cluster"]
    assert _sso(settings, gone)["provider"]

    # And everything, the data and the namespace too.
    wiped = playbook("homelab.mlflow.teardown", "-e", "teardown_delete_data=true")
    assert wiped.returncode == 0, wiped.output[-6000:]
    core = client.CoreV1Api(k8s)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _namespace_exists(core, gone):
        time.sleep(2)
    assert not _namespace_exists(core, gone), f"namespace {gone} still exists"
    assert _state(k8s, other)["Deployment"] == {"mlflow"}
    assert not _sso(settings, gone)["provider"]

    # The other target's cleanup, for the next run of the test.
    playbook("homelab.mlflow.teardown", "-e", "teardown_delete_data=true", limit=other)
