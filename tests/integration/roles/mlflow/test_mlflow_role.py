"""homelab.mlflow.mlflow on the local test cluster, with the MLflow it deploys really running.

The role runs with ansible-playbook (playbooks/converge.yml, as playbooks/site.yml runs it) in a
fresh namespace that holds only its prerequisites: the database credentials Secret (with a
password full of URL-special characters) and the artifact volume claim. The cluster's pods never
run (kwok), so the migration Job and the Deployment the role created are then run here as local
processes of the same MLflow release: their command and arguments as rendered, their environment
resolved from the cluster's Secrets, the database host mapped to a real local PostgreSQL, the
volumes to local directories. Against that server the test logs a run with MlflowClient, probes
the Host and Origin checks, and runs the role's own verify tasks.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import local_mlflow as local_deployment
import pytest
import yaml
from ansible_runs import VENV_BIN, ansible_env, eventually
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from local_pod import LocalContainer, stop
from mlflow_runtime import runtime_for

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
RUNTIME_LOCK = REPO / "requirements" / "mlflow.txt"
ROLE = REPO / "roles" / "mlflow"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())

EXTERNAL_HOST = "mlflow.localtest.me"  # inventories/local
USERNAME = "mlflow@lab"
# Every character that means something in a URL, quotes, a backslash and non-ASCII text.
PASSWORD = "p@ss/w:rd#%?&=+ \"'\\ü"  # noqa: S105 (a test credential)
NEW_PASSWORD = PASSWORD + "-2"
JOB_NAME = "mlflow-db-upgrade-" + DEFAULTS["mlflow_version"].replace(".", "-")
# A made-up digest: the cluster's pods never pull (kwok), so any well-formed one does.
DIGEST = "sha256:" + "0123456789abcdef" * 4
RECAP = re.compile(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def tail(text: str, chars: int = 6000) -> str:
    return text[-chars:]


def changed(stdout: str) -> int:
    (match,) = RECAP.findall(stdout)
    return int(match[1])


def backend_store_uri(namespace: str, database: str, password: str = PASSWORD) -> str:
    return (
        f"postgresql+psycopg2://{quote(USERNAME, safe='')}:{quote(password, safe='')}"
        f"@mlflow-postgres-rw.{namespace}.svc:5432/{quote(database, safe='')}"
    )


def create_prerequisites(api: client.ApiClient, namespace: str) -> None:
    """What the postgres and storage roles (or an operator) provide before this role runs."""
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": namespace}})
    core.create_namespaced_secret(
        namespace,
        {
            "metadata": {"name": "mlflow-secrets"},
            "type": "kubernetes.io/basic-auth",
            "stringData": {"username": USERNAME, "password": PASSWORD},
        },
    )
    core.create_namespaced_persistent_volume_claim(
        namespace,
        {
            "metadata": {"name": "mlflow-artifacts"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "longhorn",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )


# The CloudNativePG stand-in fails every Backup of a Cluster with this annotation (tools/standins/operators).
BACKUP_ERROR_ANNOTATION = "testcluster.homelab.mlflow/backup-error"
CNPG = ("postgresql.cnpg.io", "v1")


def create_database_cluster(api: client.ApiClient, namespace: str, backup: dict | None = None) -> None:
    """The CloudNativePG Cluster homelab.mlflow.postgres would apply, with the backup section of inventories/local
    (or `backup`); the stand-in reports it healthy and completes its Backups. MLflow itself runs against a local
    PostgreSQL in these tests."""
    spec = {
        "instances": 1,
        "storage": {"size": "1Gi", "storageClass": "longhorn"},
        "bootstrap": {"initdb": {"database": "mlflow", "owner": "mlflow", "secret": {"name": "mlflow-secrets"}}},
        "backup": backup if backup is not None else {"volumeSnapshot": {"className": "longhorn-snapshot"}},
    }
    body = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "mlflow-postgres"}}
    client.CustomObjectsApi(api).create_namespaced_custom_object(*CNPG, namespace, "clusters", {**body, "spec": spec})


def set_backup_error(api: client.ApiClient, namespace: str, error: str | None) -> None:
    """Make the stand-in fail the Cluster's Backups with `error` (None: complete them again)."""
    patch = {"metadata": {"annotations": {BACKUP_ERROR_ANNOTATION: error}}}
    client.CustomObjectsApi(api).patch_namespaced_custom_object(*CNPG, namespace, "clusters", "mlflow-postgres", patch)


def backups(api: client.ApiClient, namespace: str) -> dict[str, dict]:
    """The CloudNativePG Backups in the namespace, by name."""
    found = client.CustomObjectsApi(api).list_namespaced_custom_object(*CNPG, namespace, "backups")["items"]
    return {item["metadata"]["name"]: item for item in found}


def delete_namespace(api: client.ApiClient, namespace: str) -> None:
    try:
        client.CoreV1Api(api).delete_namespace(namespace)
    except ApiException as err:
        if err.status != 404:
            raise


def read(api: client.ApiClient, reader, *args) -> dict | None:
    """An object as the API returns it (camelCase dict), or None when it does not exist."""
    try:
        return api.sanitize_for_serialization(reader(*args))
    except ApiException as err:
        if err.status == 404:
            return None
        raise


def role_objects(api: client.ApiClient, namespace: str) -> dict[str, dict | None]:
    core, apps, batch, policy = (
        client.CoreV1Api(api),
        client.AppsV1Api(api),
        client.BatchV1Api(api),
        client.PolicyV1Api(api),
    )
    custom = client.CustomObjectsApi(api)
    return {
        "secret": read(api, core.read_namespaced_secret, "mlflow-backend-store", namespace),
        "serviceaccount": read(api, core.read_namespaced_service_account, "mlflow", namespace),
        "service": read(api, core.read_namespaced_service, "mlflow", namespace),
        "job": read(api, batch.read_namespaced_job, JOB_NAME, namespace),
        "deployment": read(api, apps.read_namespaced_deployment, "mlflow", namespace),
        "pdb": read(api, policy.read_namespaced_pod_disruption_budget, "mlflow", namespace),
        "cronjob": read(api, batch.read_namespaced_cron_job, "mlflow-gc", namespace),
        "httproute": read(
            api,
            custom.get_namespaced_custom_object,
            "gateway.networking.k8s.io",
            "v1",
            namespace,
            "httproutes",
            "mlflow",
        ),
    }


@pytest.fixture(scope="module")
def namespace(k8s):
    name = f"mlflow-it-{uuid.uuid4().hex[:8]}"
    create_prerequisites(k8s, name)
    yield name
    delete_namespace(k8s, name)


@pytest.fixture(scope="module")
def database(namespace) -> str:
    """A database name of this module's own, so the session's PostgreSQL can serve other tests too."""
    return f"mlflow_{namespace.rsplit('-', 1)[1]}"


@pytest.fixture(scope="module")
def converged(namespace, database, playbook):
    """The first run, at -vvv: nothing answers HTTP in the cluster, so verify skips its HTTP checks."""
    run = playbook(namespace, "-vvv", extra_vars={"postgres_database": database, "mlflow_verify_http": False})
    assert run.returncode == 0, tail(run.stdout)
    return run


@pytest.fixture(scope="module")
def workloads(k8s, namespace, converged) -> dict[str, dict | None]:
    return role_objects(k8s, namespace)


@dataclass
class LocalMlflow:
    url: str
    port: int
    artifacts: Path
    database: str
    migration: list[tuple[str, subprocess.CompletedProcess]]
    containers: dict[str, LocalContainer]


def local_database_uri(uri: str, namespace: str, database: str, port: int) -> str:
    """The URI with the in-cluster database service replaced by the local server."""
    parts = urlsplit(uri)
    assert (parts.hostname, parts.port, parts.path) == (f"mlflow-postgres-rw.{namespace}.svc", 5432, f"/{database}")
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))


def local_containers(api, namespace, pod_spec, containers, *, database, postgres_server, artifacts, tmp_path_factory):
    """The pod's containers, ready to run here: volumes as local directories, the database local."""
    volumes = {}
    for volume in pod_spec.get("volumes", []):
        if "persistentVolumeClaim" in volume:
            assert volume["persistentVolumeClaim"]["claimName"] == DEFAULTS["storage_artifacts_pvc_name"]
            volumes[volume["name"]] = artifacts
        else:
            assert volume.get("emptyDir") is not None, volume
            volumes[volume["name"]] = tmp_path_factory.mktemp(volume["name"])
    result = []
    for container in containers:
        local = LocalContainer.from_spec(
            api, namespace, pod_spec, container, volumes=volumes, workdir=tmp_path_factory.mktemp("workdir")
        )
        local.env["MLFLOW_BACKEND_STORE_URI"] = local_database_uri(
            local.env["MLFLOW_BACKEND_STORE_URI"], namespace, database, postgres_server.port
        )
        result.append(local)
    return result


@pytest.fixture(scope="module")
def local_mlflow(k8s, namespace, database, workloads, postgres_server, mlflow_runtime, tmp_path_factory):
    """Run the migration Job's containers in order, then the server, as the cluster would."""
    postgres_server.create_database(USERNAME, PASSWORD, database)
    artifacts = tmp_path_factory.mktemp("artifacts")
    options = {
        "database": database,
        "postgres_server": postgres_server,
        "artifacts": artifacts,
        "tmp_path_factory": tmp_path_factory,
    }

    job_pod = workloads["job"]["spec"]["template"]["spec"]
    migration = []
    for local in local_containers(
        k8s, namespace, job_pod, [*job_pod.get("initContainers", []), *job_pod["containers"]], **options
    ):
        migration.append((local.name, local.run(mlflow_runtime.path())))
        if migration[-1][1].returncode != 0:
            break

    server_pod = workloads["deployment"]["spec"]["template"]["spec"]
    (server,) = local_containers(k8s, namespace, server_pod, server_pod["containers"], **options)
    port = local_deployment.free_port()
    server.replace_arg("--port=5000", f"--port={port}")
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("logs") / "mlflow-server.log"
    process = None
    if all(result.returncode == 0 for _name, result in migration):
        process = server.start(mlflow_runtime.path(), log)
        try:
            local_deployment.wait_for_health(url, process, log)
        except BaseException:
            stop(process)
            raise
    try:
        yield LocalMlflow(url, port, artifacts, database, migration, {"server": server})
    finally:
        if process is not None:
            stop(process)
        postgres_server.drop_database(USERNAME, database)


def request(port: int, method: str, path: str, *, host: str, body: dict | None = None, headers: dict | None = None):
    """An HTTP request with an explicit Host header; returns (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", host)
        data = json.dumps(body).encode() if body is not None else b""
        for name, value in {
            **(headers or {}),
            "Content-Type": "application/json",
            "Content-Length": str(len(data)),
        }.items():
            connection.putheader(name, value)
        connection.endheaders(data)
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        connection.close()


# --- the pins agree (no cluster needed) ----------------------------------------------------


def test_the_runtime_containerfile_and_role_pin_the_same_mlflow():
    requirements = dict(re.findall(r"^([\w.-]+)==(\S+)", RUNTIME_LOCK.read_text(), re.MULTILINE))
    containerfile = (REPO / "images" / "mlflow" / "Containerfile").read_text()
    pinned = dict(re.findall(r"^ARG (\w+)=(\S+)$", containerfile, re.MULTILINE))

    assert requirements["mlflow"] == DEFAULTS["mlflow_version"] == pinned["MLFLOW_VERSION"]
    assert requirements["psycopg2-binary"] == pinned["PSYCOPG2_VERSION"]
    assert DEFAULTS["mlflow_database_driver"] == "psycopg2"


# --- what the role applied ------------------------------------------------------------------


def test_backend_store_secret_holds_the_credentials_percent_encoded(workloads, namespace, database):
    uri = base64.b64decode(workloads["secret"]["data"]["uri"]).decode()
    parts = urlsplit(uri)

    assert uri == backend_store_uri(namespace, database)
    assert (unquote(parts.username), unquote(parts.password)) == (USERNAME, PASSWORD)
    assert (parts.scheme, parts.hostname, parts.port) == (
        "postgresql+psycopg2",
        f"mlflow-postgres-rw.{namespace}.svc",
        5432,
    )


def test_no_secret_reaches_the_output_at_vvv(converged, namespace, database):
    uri = backend_store_uri(namespace, database)
    forms = {
        PASSWORD,
        quote(PASSWORD, safe=""),
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.b64encode(uri.encode()).decode(),
        json.dumps(PASSWORD)[1:-1],
    }

    for form in forms:
        assert form not in converged.stdout + converged.stderr


def test_deployment_is_restricted_and_takes_the_uri_from_the_secret(workloads, namespace, database):
    deployment = workloads["deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    env = {item["name"]: item for item in container["env"]}

    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert container["image"] == f"{DEFAULTS['mlflow_image']}:{DEFAULTS['mlflow_version']}"
    assert container["command"] == ["mlflow", "server"]
    assert {"--serve-artifacts", "--artifacts-destination=/mlflow/artifacts", "--port=5000"} <= set(args)
    assert not any(arg.startswith(("--gunicorn-opts", "--waitress-opts", "--backend-store-uri")) for arg in args)
    assert env["MLFLOW_BACKEND_STORE_URI"]["valueFrom"]["secretKeyRef"] == {
        "name": "mlflow-backend-store",
        "key": "uri",
    }
    assert "postgresql" not in json.dumps(deployment)
    # A password change rolls the pods through this hash; the URI itself is not on the pod.
    annotation = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/backend-store"]
    assert annotation == hashlib.sha256(backend_store_uri(namespace, database).encode()).hexdigest()
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http", "scheme": "HTTP"}
    assert container["resources"] == {
        "requests": {"cpu": "200m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert isinstance(pod["securityContext"]["runAsUser"], int)
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["artifacts"]["persistentVolumeClaim"]["claimName"] == "mlflow-artifacts"
    assert volumes["tmp"]["emptyDir"] == {"sizeLimit": DEFAULTS["mlflow_tmp_size_limit"]} == {"sizeLimit": "256Mi"}
    # The namespace enforces PodSecurity `restricted`, and the pods were admitted and became ready.
    assert deployment["status"]["availableReplicas"] == 1


def test_migration_job_is_named_after_the_release_and_kept(workloads):
    job = workloads["job"]
    pod = job["spec"]["template"]["spec"]

    assert job["metadata"]["name"] == JOB_NAME
    assert job["spec"].get("ttlSecondsAfterFinished") is None
    assert job["status"]["succeeded"] == 1
    assert [c["name"] for c in pod["initContainers"]] == ["wait-for-database"]
    assert pod["containers"][0]["command"] == ["sh", "-c", 'exec mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"']
    # Its own, lighter resources than the server's, and a bounded /tmp.
    for container in pod["initContainers"] + pod["containers"]:
        assert container["resources"] == DEFAULTS["mlflow_db_upgrade_resources"], container["name"]
        assert container["resources"] != DEFAULTS["mlflow_resources"]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": DEFAULTS["mlflow_db_upgrade_tmp_size_limit"]}}]
    assert pod["securityContext"]["runAsUser"] == pod["securityContext"]["runAsGroup"] == 10001


def test_service_route_and_optional_objects(workloads, namespace):
    service, route = workloads["service"], workloads["httproute"]

    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
    assert service["spec"]["selector"] == workloads["deployment"]["spec"]["selector"]["matchLabels"]
    assert route["spec"]["hostnames"] == [EXTERNAL_HOST]
    assert (route["spec"]["parentRefs"][0]["name"], route["spec"]["parentRefs"][0]["namespace"]) == (
        "main-gateway",
        "cilium-system",
    )
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "mlflow"
    assert workloads["pdb"] is None  # one replica
    assert workloads["cronjob"] is None  # mlflow_gc_enabled is false
    for name, obj in workloads.items():
        if obj is not None:
            labels = obj["metadata"]["labels"]
            assert labels["app.kubernetes.io/managed-by"] == "homelab.mlflow", name
            assert labels["app.kubernetes.io/part-of"] == "mlflow", name
            assert labels["app.kubernetes.io/instance"] == "mlflow", name


# --- the rendered containers, run against real PostgreSQL ----------------------------------


def test_migration_job_waits_for_and_migrates_the_database(local_mlflow, postgres_server, mlflow_runtime):
    steps = dict(local_mlflow.migration)

    assert list(steps) == ["wait-for-database", "db-upgrade"], {name: tail(r.stdout) for name, r in steps.items()}
    for name, result in steps.items():
        assert result.returncode == 0, f"{name}:\n{tail(result.stdout)}"
    assert "the database accepts connections" in steps["wait-for-database"].stdout
    assert {
        "alembic_version",
        "experiments",
        "runs",
        "metrics",
        "params",
        "registered_models",
    } <= postgres_server.tables(local_mlflow.database)
    assert PASSWORD not in steps["db-upgrade"].stdout


def test_server_answers_health(local_mlflow):
    status, body = request(local_mlflow.port, "GET", "/health", host=f"127.0.0.1:{local_mlflow.port}")

    assert (status, body) == (200, "OK")


def test_client_logs_a_run_and_its_artifact_lands_on_the_volume(local_mlflow, mlflow_runtime):
    name = f"integration-{uuid.uuid4().hex[:8]}"
    text = f"artifact of {name}\n"
    result = subprocess.run(
        [str(mlflow_runtime.python), str(HERE / "client_smoke.py"), name, text],
        env={
            "PATH": mlflow_runtime.path(),
            "MLFLOW_TRACKING_URI": local_mlflow.url,
            "MLFLOW_DISABLE_TELEMETRY": "true",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, tail(result.stderr)
    run = json.loads(result.stdout.splitlines()[-1])

    assert run["status"] == "FINISHED"
    assert run["params"] == {"alpha": "0.5", "optimizer": "adam"}
    assert run["metrics"] == {"rmse": 0.125}
    assert run["rmse_history"] == [[0, 0.5], [1, 0.25], [2, 0.125]]
    assert run["artifacts"] == ["model/notes.txt"]
    assert run["downloaded"] == text
    # Proxied by the server (mlflow-artifacts:), stored on the volume it serves from.
    assert run["artifact_uri"] == f"mlflow-artifacts:/{run['experiment_id']}/{run['run_id']}/artifacts"
    stored = local_mlflow.artifacts / run["experiment_id"] / run["run_id"] / "artifacts" / "model" / "notes.txt"
    assert stored.read_text() == text


@pytest.mark.parametrize(
    "host",
    [
        EXTERNAL_HOST,
        f"{EXTERNAL_HOST}:443",
        "mlflow",
        "mlflow.{namespace}",
        "mlflow.{namespace}.svc",
        "mlflow.{namespace}.svc.cluster.local",
        "mlflow.{namespace}.svc.cluster.local:80",
        "localhost:5000",
        "127.0.0.1:5000",  # the pod's own address (its IP is 127.0.0.1 here), as a scrape sends it
    ],
)
def test_the_external_host_and_service_names_are_accepted(local_mlflow, namespace, host):
    status, body = request(
        local_mlflow.port,
        "GET",
        "/api/2.0/mlflow/experiments/search?max_results=1",
        host=host.format(namespace=namespace),
    )

    assert status == 200, body


@pytest.mark.parametrize(
    "host", ["evil.example.com", f"{EXTERNAL_HOST}.evil.example.com", "10.0.0.1.nip.io", "mlflow.other"]
)
def test_an_unknown_host_is_rejected(local_mlflow, host):
    status, body = request(local_mlflow.port, "GET", "/api/2.0/mlflow/experiments/search?max_results=1", host=host)
    health, _body = request(local_mlflow.port, "GET", "/health", host=host)

    assert status in (400, 403)
    assert "Invalid Host header" in body
    assert health == 200  # probes come by pod IP: /health is exempt


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (f"https://{EXTERNAL_HOST}", True),
        ("http://mlflow.{namespace}.svc.cluster.local", True),
        ("https://evil.example.com", False),
    ],
)
def test_state_changes_from_foreign_origins_are_blocked(local_mlflow, namespace, origin, allowed):
    status, body = request(
        local_mlflow.port,
        "POST",
        "/api/2.0/mlflow/experiments/search",
        host=EXTERNAL_HOST,
        body={"max_results": 1},
        headers={"Origin": origin.format(namespace=namespace)},
    )

    assert status == (200 if allowed else 403), body


def verify_experiments(postgres_server, database: str) -> list[str]:
    """Lifecycle stages of the experiments the role's smoke test created."""
    return postgres_server.psql(
        "SELECT lifecycle_stage FROM experiments WHERE name LIKE 'homelab-mlflow-verify-%';", database=database
    ).split()


def test_role_verify_passes_against_the_real_server(local_mlflow, namespace, database, playbook, postgres_server):
    before = verify_experiments(postgres_server, database)
    run = playbook(
        namespace,
        "--tags",
        "verify",
        extra_vars={"postgres_database": database, "mlflow_verify_http": True, "mlflow_verify_url": local_mlflow.url},
    )

    assert run.returncode == 0, tail(run.stdout)
    assert changed(run.stdout) == 0
    assert re.search(r"TASK \[homelab\.mlflow\.mlflow : Check MLflow's HTTP API\] \**\nok: ", run.stdout), tail(
        run.stdout
    )
    # The smoke test's experiment went through this server's database and was deleted again.
    after = verify_experiments(postgres_server, database)
    assert len(after) == len(before) + 1
    assert set(after) == {"deleted"}
    assert not list(local_mlflow.artifacts.rglob("verify.txt"))


def test_second_run_changes_nothing(local_mlflow, namespace, database, playbook, postgres_server):
    before = verify_experiments(postgres_server, database)
    run = playbook(
        namespace,
        extra_vars={"postgres_database": database, "mlflow_verify_http": True, "mlflow_verify_url": local_mlflow.url},
    )

    assert run.returncode == 0, tail(run.stdout)
    assert changed(run.stdout) == 0, tail(run.stdout)
    # Its verify ran the smoke test against the server too.
    assert len(verify_experiments(postgres_server, database)) == len(before) + 1


def test_check_mode_finds_nothing_to_change_after_a_run(namespace, database, playbook):
    run = playbook(
        namespace, "--check", "--diff", extra_vars={"postgres_database": database, "mlflow_verify_http": False}
    )

    assert run.returncode == 0, tail(run.stdout)
    assert changed(run.stdout) == 0, tail(run.stdout)


def failed_job(name: str) -> dict:
    """A Job that fails at once (its deadline passes), as a migration does when the database is down."""
    return {
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 1,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "fail",
                            "image": "registry.k8s.io/pause:3.10",
                            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                        }
                    ],
                }
            },
        },
    }


def test_next_run_rolls_a_new_password_replaces_a_failed_migration_and_adds_gc(
    k8s, namespace, database, workloads, playbook
):
    """Three changes one run takes care of (one run, to keep the module quick): the credentials
    Secret got a new password, the migration Job of the release now deployed has failed, and the
    gc CronJob is turned on."""
    client.CoreV1Api(k8s).patch_namespaced_secret(
        "mlflow-secrets", namespace, {"stringData": {"password": NEW_PASSWORD}}
    )
    version = DEFAULTS["mlflow_version"] + "-retry"
    job_name = "mlflow-db-upgrade-" + version.replace(".", "-")
    batch = client.BatchV1Api(k8s)
    failed = batch.create_namespaced_job(namespace, failed_job(job_name))
    deadline = time.monotonic() + 60
    while not any(
        c.type == "Failed" and c.status == "True"
        for c in batch.read_namespaced_job(job_name, namespace).status.conditions or []
    ):
        assert time.monotonic() < deadline, "the Job did not fail"
        time.sleep(0.5)

    run = playbook(
        namespace,
        extra_vars={
            "postgres_database": database,
            "mlflow_verify_http": False,
            "mlflow_version": version,
            "mlflow_gc_enabled": True,
            "mlflow_gc_older_than": "",
            "mlflow_image_digest": DIGEST,
        },
    )
    after = role_objects(k8s, namespace)
    retried = batch.read_namespaced_job(job_name, namespace)

    assert run.returncode == 0, tail(run.stdout)
    assert NEW_PASSWORD not in run.stdout + run.stderr
    # The new password is in the URI, and its hash on the pod template rolls the pods.
    uri = backend_store_uri(namespace, database, NEW_PASSWORD)
    assert base64.b64decode(after["secret"]["data"]["uri"]).decode() == uri
    template = after["deployment"]["spec"]["template"]
    assert template["metadata"]["annotations"]["checksum/backend-store"] == hashlib.sha256(uri.encode()).hexdigest()
    assert after["deployment"]["metadata"]["generation"] > workloads["deployment"]["metadata"]["generation"]
    # The failed Job was replaced and ran; the earlier release's Job stays as it was.
    assert retried.metadata.uid != failed.metadata.uid
    assert retried.status.succeeded == 1
    # Every container runs the image pinned to the digest.
    pinned = f"{DEFAULTS['mlflow_image']}:{version}@{DIGEST}"
    assert retried.spec.template.spec.containers[0].image == pinned
    assert template["spec"]["containers"][0]["image"] == pinned
    assert after["job"]["metadata"]["uid"] == workloads["job"]["metadata"]["uid"]
    # gc: never two at once, and the same restricted pod as the server.
    cronjob = after["cronjob"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    gc_pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert gc_pod["securityContext"] == template["spec"]["securityContext"]
    assert gc_pod["containers"][0]["securityContext"] == template["spec"]["containers"][0]["securityContext"]
    assert gc_pod["containers"][0]["image"] == pinned
    assert gc_pod["containers"][0]["resources"] == DEFAULTS["mlflow_gc_resources"]
    assert gc_pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": DEFAULTS["mlflow_gc_tmp_size_limit"]}}]


def test_gc_cronjob_purges_deleted_runs_and_their_artifacts(
    k8s, namespace, local_mlflow, postgres_server, mlflow_runtime, tmp_path_factory
):
    """The CronJob of the previous run, run here: it deletes what was deleted, artifacts too."""
    cronjob = role_objects(k8s, namespace)["cronjob"]
    assert cronjob is not None, "the previous test turns gc on"
    database = local_mlflow.database
    run_id, experiment_id = (
        postgres_server.psql("SELECT run_uuid, experiment_id FROM runs WHERE name = 'integration';", database=database)
        .strip()
        .split("|")
    )
    artifacts = local_mlflow.artifacts / experiment_id / run_id
    assert artifacts.is_dir()
    status, body = request(
        local_mlflow.port, "POST", "/api/2.0/mlflow/runs/delete", host=EXTERNAL_HOST, body={"run_id": run_id}
    )
    assert status == 200, body
    # What CloudNativePG does with a new password in the credentials Secret (the running server
    # keeps its open connections).
    postgres_server.psql(
        "ALTER ROLE :\"user\" PASSWORD :'password';", variables={"user": USERNAME, "password": NEW_PASSWORD}
    )

    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (gc,) = local_containers(
        k8s,
        namespace,
        pod,
        pod["containers"],
        database=database,
        postgres_server=postgres_server,
        artifacts=local_mlflow.artifacts,
        tmp_path_factory=tmp_path_factory,
    )
    assert gc.env["MLFLOW_TRACKING_URI"] == f"http://mlflow.{namespace}.svc.cluster.local"
    gc.env["MLFLOW_TRACKING_URI"] = local_mlflow.url
    result = gc.run(mlflow_runtime.path())

    assert result.returncode == 0, tail(result.stdout)
    assert postgres_server.psql("SELECT lifecycle_stage FROM runs;", database=database).split() == []
    assert (
        postgres_server.psql(
            "SELECT name FROM experiments WHERE lifecycle_stage = 'deleted';", database=database
        ).split()
        == []
    )
    # Deleted through the server's artifact proxy (MLflow leaves the emptied run folder).
    assert not (artifacts / "artifacts").exists()
    assert not [path for path in local_mlflow.artifacts.rglob("*") if path.is_file()]
    assert NEW_PASSWORD not in result.stdout + (result.stderr or "")  # stderr goes to stdout


# --- check mode, and settings refused before anything is written ----------------------------


@pytest.mark.parametrize("prepared", [True, False], ids=["namespace-with-prerequisites", "no-namespace-yet"])
def test_check_mode_changes_nothing_in_a_fresh_namespace(k8s, playbook, prepared):
    name = f"mlflow-check-{uuid.uuid4().hex[:8]}"
    extra_vars = {"mlflow_verify_http": False}
    if prepared:
        create_prerequisites(k8s, name)
    else:
        # As in a first site.yml run: homelab.mlflow.postgres would write the credentials.
        extra_vars["postgres_credentials_secret_managed"] = True
    try:
        run = playbook(name, "--check", "--diff", extra_vars=extra_vars)

        assert run.returncode == 0, tail(run.stdout)
        assert changed(run.stdout) > 0  # it reports what it would do
        assert PASSWORD not in run.stdout + run.stderr
        assert all(obj is None for obj in role_objects(k8s, name).values())
        if not prepared:
            assert read(k8s, client.CoreV1Api(k8s).read_namespace, name) is None
    finally:
        delete_namespace(k8s, name)


@pytest.mark.parametrize(
    ("extra_vars", "variable"),
    [
        ({"mlflow_replicas": 2}, "mlflow_replicas"),
        ({"mlflow_external_host": "https://mlflow.example.com/"}, "mlflow_external_host"),
        ({"postgres_credentials_secret": "no-such-secret"}, "postgres_credentials_secret"),
        ({"mlflow_servicemonitor_enabled": True}, "mlflow_servicemonitor_enabled"),
    ],
    ids=[
        "replicas-on-a-ReadWriteOnce-volume",
        "external-host-not-a-host-name",
        "no-credentials",
        "no-ServiceMonitor-API",
    ],
)
def test_preflight_refuses_settings_that_cannot_work(namespace, playbook, extra_vars, variable):
    run = playbook(namespace, extra_vars=extra_vars)

    assert run.returncode != 0
    failed = run.stdout[: run.stdout.rindex("fatal: [")]
    assert failed[failed.rindex("TASK [") :].startswith("TASK [homelab.mlflow.mlflow : Check"), tail(run.stdout)
    assert variable in " ".join(run.stdout[run.stdout.rindex("fatal: [") :].split())
    assert changed(run.stdout) == 0


def test_an_older_release_than_the_migrated_schema_is_refused_before_any_write(
    testcluster, namespace, database, workloads, playbook
):
    """The module's first run migrated the database to the default release: going back is refused by the
    preflight, naming both releases, and nothing in the namespace is written."""
    migrated = DEFAULTS["mlflow_version"]
    older = "3.10.1"
    mark = testcluster.audit.mark()

    run = playbook(namespace, extra_vars={"postgres_database": database, "mlflow_version": older})

    assert run.returncode != 0
    message = " ".join(run.stdout[run.stdout.rindex("fatal: [") :].split())
    assert (
        f"mlflow_version is {older}, but the database in namespace {namespace} was migrated to MLflow {migrated}"
        in (message)
    ), tail(run.stdout)
    assert "restore the database from the backup taken before the upgrade" in message
    assert changed(run.stdout) == 0
    assert testcluster.audit.writes(mark, user="testcluster-admin", namespace=namespace) == []
    # It did look: the migration Jobs were listed.
    assert any(r.resource == "batch/jobs" for r in testcluster.audit.requests(mark, namespace=namespace))


# --- read replicas: real streaming replication ----------------------------------------------


def tracking_data(runtime, url: str, command: str, prefix: str) -> dict:
    """tracking_data.py with the runtime's Python against the server at url: what it wrote or read."""
    result = subprocess.run(
        [str(runtime.python), str(HERE / "tracking_data.py"), command, prefix],
        env={"PATH": runtime.path(), "MLFLOW_TRACKING_URI": url, "MLFLOW_DISABLE_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, tail(result.stderr)
    return json.loads(result.stdout.splitlines()[-1])


# A new log entry starts with its timestamp; the lines of a long statement go on without one.
LOG_ENTRY_START = re.compile(rb"\n(?=\d{4}-\d{2}-\d{2} )")


def logged_statements(log: Path, since: int) -> list[str]:
    """The statements a server logged (log_statement=all) after byte `since` of its log, each whole (a statement
    of several lines goes on in lines without the log's prefix)."""
    with log.open("rb") as lines:
        lines.seek(since)
        text = lines.read()
    entries = LOG_ENTRY_START.split(text)
    return [entry.split(b"statement: ", 1)[1].decode() for entry in entries if b"statement: " in entry]


def test_with_standbys_mlflow_reads_from_the_read_only_service(testcluster, k8s, playbook, mlflow_runtime, tmp_path):
    """postgres_instances 2: the Secret holds a second URI to <cluster>-ro, the server takes it from there, and,
    run as deployed against a real primary and hot standby (pg_basebackup -R), searches are served by the
    standby while the writes go to the primary."""
    name = f"mlflow-ro-{uuid.uuid4().hex[:8]}"
    database = f"mlflow_{name.rsplit('-', 1)[1]}"
    create_prerequisites(k8s, name)
    state = tmp_path / "local-mlflow"
    try:
        run = playbook(
            name, extra_vars={"postgres_database": database, "postgres_instances": 2, "mlflow_verify_http": False}
        )
        assert run.returncode == 0, tail(run.stdout)
        objects = role_objects(k8s, name)
        read_uri = base64.b64decode(objects["secret"]["data"]["read-replica-uri"]).decode()
        assert read_uri == backend_store_uri(name, database).replace(f"-rw.{name}.svc", f"-ro.{name}.svc")
        (server,) = objects["deployment"]["spec"]["template"]["spec"]["containers"]
        assert {
            "name": "MLFLOW_READ_REPLICA_BACKEND_STORE_URI",
            "valueFrom": {"secretKeyRef": {"name": "mlflow-backend-store", "key": "read-replica-uri"}},
        } in server["env"]
        assert not any("replica" in arg or "postgresql" in arg for arg in server["args"])
        assert PASSWORD not in run.stdout + run.stderr

        started = local_deployment.start(str(testcluster.kubeconfig), name, state)
        standby_log = Path(started["standby_log"])
        written = tracking_data(mlflow_runtime, started["url"], "write", "replica")
        mark = standby_log.stat().st_size
        read = tracking_data(mlflow_runtime, started["url"], "read", "replica")

        assert read == written
        served = logged_statements(standby_log, mark)
        assert any(re.search(r"\bFROM experiments\b", s) for s in served), served[-20:]
        assert any(re.search(r"\bFROM runs\b", s) for s in served), served[-20:]
        assert any(re.search(r"\bFROM model_versions\b", s) for s in served), served[-20:]
        # The standby never saw a write: they all went to the primary (a standby refuses them anyway).
        everything = logged_statements(standby_log, 0)
        assert not [s for s in everything if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", s, re.IGNORECASE)]
        assert PASSWORD not in standby_log.read_text()
    finally:
        local_deployment.stop(state)
        delete_namespace(k8s, name)


# --- an upgrade from an earlier release, with real data --------------------------------------

PREVIOUS_VERSION = re.search(
    r"^mlflow==(\S+)", (REPO / "requirements" / "mlflow-previous.txt").read_text(), re.MULTILINE
).group(1)


def schema_head(runtime) -> str:
    """The newest Alembic revision of a release's schema."""
    script = "from mlflow.store.db.utils import _get_latest_schema_revision as head; print(head())"
    result = subprocess.run(
        [str(runtime.python), "-c", script],
        env={"PATH": runtime.path(), "MLFLOW_DISABLE_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def deployed_release(api: client.ApiClient, namespace: str) -> str:
    """The release the namespace's Deployment runs (its version label)."""
    deployment = read(api, client.AppsV1Api(api).read_namespaced_deployment, "mlflow", namespace) or {}
    return deployment.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/version", "")


def expect_records(repo_root: Path, url: str, records: dict) -> subprocess.CompletedProcess:
    """homelab.mlflow.mlflow_api_check with expect_records, run on its own against the server at `url`."""
    arguments = json.dumps({"url": url, "smoke_test": False, "expect_records": records})
    command = [str(VENV_BIN / "ansible"), "localhost", "-m", "homelab.mlflow.mlflow_api_check", "-a", arguments]
    return subprocess.run(
        command, cwd=repo_root, env=ansible_env(repo_root), capture_output=True, text=True, timeout=120, check=False
    )


def first_write(writes: list, resource: str, name: str) -> int:
    """Where the first write to that object (server-side apply: a patch, also when it creates) stands among
    `writes`, in the audit log's order."""
    return next(index for index, request in enumerate(writes) if (request.resource, request.name) == (resource, name))


def test_an_upgrade_keeps_every_item_the_earlier_release_wrote(testcluster, k8s, playbook, tmp_path, repo_root):
    """The earlier release deployed, run, and filled through the real client and PostgreSQL; check mode shows
    the upgrade and writes nothing; the upgrade migrates first, then rolls out; the new release's migration
    Job and server, run on the same database, read every item back unchanged; going back is then refused."""
    current = DEFAULTS["mlflow_version"]
    assert PREVIOUS_VERSION != current
    name = f"mlflow-up-{uuid.uuid4().hex[:8]}"
    database = f"mlflow_{name.rsplit('-', 1)[1]}"
    settings = {"postgres_database": database, "mlflow_verify_http": False}
    create_prerequisites(k8s, name)
    state = tmp_path / "local-mlflow"
    kubeconfig = str(testcluster.kubeconfig)
    new_job = "mlflow-db-upgrade-" + current.replace(".", "-")
    backup = "mlflow-postgres-before-mlflow-" + current.replace(".", "-")
    create_database_cluster(k8s, name)
    try:
        first = playbook(name, extra_vars={**settings, "mlflow_version": PREVIOUS_VERSION})
        assert first.returncode == 0, tail(first.stdout)
        old = local_deployment.start(kubeconfig, name, state)
        assert old["version"] == PREVIOUS_VERSION
        written = tracking_data(runtime_for(PREVIOUS_VERSION), old["url"], "write", "upgrade")
        assert len(written["runs"]) == 4, written
        assert len(written["versions"]) == 1, written

        mark = testcluster.audit.mark()
        check = playbook(name, "--check", "--diff", extra_vars=settings)
        assert check.returncode == 0, tail(check.stdout)
        assert changed(check.stdout) > 0
        assert f"name: {new_job}" in check.stdout, tail(check.stdout)
        said = " ".join(check.stdout.split())
        assert f"Upgrading MLflow {PREVIOUS_VERSION} to {current}: first the CloudNativePG Backup {backup}" in said
        assert f"+++ after: Backup {name}/{backup}" in check.stdout, tail(check.stdout)
        assert f"the migration Job {new_job} rewrites the database schema" in said
        assert backups(k8s, name) == {}
        assert f"{DEFAULTS['mlflow_image']}:{current}" in check.stdout
        assert testcluster.audit.writes(mark, user="testcluster-admin", namespace=name) == []
        assert role_objects(k8s, name)["deployment"]["metadata"]["labels"]["app.kubernetes.io/version"] == (
            PREVIOUS_VERSION
        )

        # The upgrade, with the HTTP checks at the address the server keeps: the role reads what the earlier
        # release holds, and its verify finds all of it again through the upgraded server, which this test
        # runs as the cluster would roll it out (the earlier server stops once the Backup is asked for).
        mark = testcluster.audit.mark()
        checked = {**settings, "mlflow_verify_http": True, "mlflow_verify_url": old["url"]}
        running = ThreadPoolExecutor(max_workers=1)
        upgrading = running.submit(playbook, name, "-v", extra_vars={**checked, "mlflow_verify_smoke_test": False})
        eventually(lambda: backup in backups(k8s, name) or upgrading.done(), what=f"the Backup {backup}")
        local_deployment.stop_server(json.loads((state / "state.json").read_text()))
        eventually(
            lambda: deployed_release(k8s, name) == current or upgrading.done(), what=f"the Deployment of {current}"
        )
        schema = "SELECT version_num FROM alembic_version;"
        before = local_deployment.primary(state).psql(schema, database=database).strip()
        new = local_deployment.upgrade(kubeconfig, name, state)
        upgrade = upgrading.result(timeout=900)
        running.shutdown()
        assert upgrade.returncode == 0, tail(upgrade.stdout)
        assert new["url"] == old["url"]
        checked_records = (
            r"records_checked: \d+ experiment\(s\), 4 run\(s\), 1 registered model\(s\) with 1 version\(s\)"
        )
        assert re.search(checked_records, " ".join(upgrade.stdout.split())), tail(upgrade.stdout)
        writes = testcluster.audit.writes(mark, user="testcluster-admin", namespace=name)
        # The new release's migration is created before the Deployment changes.
        assert first_write(writes, "batch/jobs", new_job) < first_write(writes, "apps/deployments", "mlflow")
        # ... and only once the Backup of the database, taken first, was reported completed.
        every_write = testcluster.audit.writes(mark, namespace=name)
        assert first_write(every_write, "postgresql.cnpg.io/backups", backup) < first_write(
            every_write, "postgresql.cnpg.io/backups/status", backup
        )
        assert first_write(every_write, "postgresql.cnpg.io/backups/status", backup) < first_write(
            every_write, "batch/jobs", new_job
        )
        assert backups(k8s, name)[backup]["status"]["phase"] == "completed"

        assert new["version"] == current
        migration = {step["container"]: step["output"] for step in new["migration"]}
        assert "Updating database tables" in migration["db-upgrade"], migration["db-upgrade"]
        # The new release's migrations ran: the schema is at its head now.
        after = local_deployment.primary(state).psql(schema, database=database).strip()
        assert after != before
        assert after == schema_head(runtime_for(current))
        assert tracking_data(runtime_for(current), new["url"], "read", "upgrade") == written
        # A record the server does not hold (any more) is named.
        gone = {"runs": [{"id": "0" * 32, "experiment_id": "1", "params": {}, "metrics": {}}]}
        missing = expect_records(repo_root, new["url"], gone)
        assert missing.returncode != 0
        assert f"run {'0' * 32} of experiment 1 is gone" in " ".join(missing.stdout.split()), missing.stdout

        mark = testcluster.audit.mark()
        back = playbook(name, extra_vars={**settings, "mlflow_version": PREVIOUS_VERSION})
        assert back.returncode != 0
        assert f"was migrated to MLflow {current}" in " ".join(back.stdout.split())
        assert testcluster.audit.writes(mark, user="testcluster-admin", namespace=name) == []
    finally:
        local_deployment.stop(state)
        delete_namespace(k8s, name)


# --- workspaces -------------------------------------------------------------------------------


def test_with_workspaces_verify_creates_a_workspace_and_an_experiment_in_it(testcluster, k8s, playbook, tmp_path):
    """mlflow_workspaces_enabled: the server runs with --enable-workspaces, and the role's verify, against
    that server run as deployed, makes a workspace with an experiment in it and deletes it again."""
    name = f"mlflow-ws-{uuid.uuid4().hex[:8]}"
    settings = {"postgres_database": f"mlflow_{name.rsplit('-', 1)[1]}", "mlflow_workspaces_enabled": True}
    create_prerequisites(k8s, name)
    state = tmp_path / "local-mlflow"
    try:
        run = playbook(name, extra_vars={**settings, "mlflow_verify_http": False})
        assert run.returncode == 0, tail(run.stdout)
        (server,) = role_objects(k8s, name)["deployment"]["spec"]["template"]["spec"]["containers"]
        assert "--enable-workspaces" in server["args"]

        started = local_deployment.start(str(testcluster.kubeconfig), name, state)
        verify = playbook(
            name,
            "--tags",
            "verify",
            "-v",
            extra_vars={**settings, "mlflow_verify_http": True, "mlflow_verify_url": started["url"]},
        )

        assert verify.returncode == 0, tail(verify.stdout)
        assert changed(verify.stdout) == 0
        assert re.search(r"workspace\W+homelab-mlflow-verify-[0-9a-f]{12}\b", verify.stdout), tail(verify.stdout)
        port = int(urlsplit(started["url"]).port)
        status, body = request(port, "GET", "/api/3.0/mlflow/workspaces", host=f"127.0.0.1:{port}")
        assert status == 200, body
        assert [w["name"] for w in json.loads(body).get("workspaces", [])] == ["default"]
    finally:
        local_deployment.stop(state)
        delete_namespace(k8s, name)
