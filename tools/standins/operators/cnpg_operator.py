"""Stand-in for the CloudNativePG operator: gives every `Cluster` the objects and status the operator would.

For each postgresql.cnpg.io/v1 Cluster (all namespaces) it creates what the real operator creates
and this collection relies on: the `-rw`, `-ro` and `-r` Services; the application Secret
`<cluster>-app`, only when `bootstrap.initdb.secret` names none (a named secret *is* the
application secret, as with the operator); one PVC and one Pod per instance (kwok runs the pods,
the Longhorn stand-in binds the claims). All but the PVCs are owned by the Cluster and go with it.
It reports the operator's status: phase, instances and ready instances, primary, services and the
`Ready` condition. No instance starts while the secret named in `bootstrap.initdb` is missing (the
operator's bootstrap cannot run without it). Instance pods stay on the simulated (kwok) nodes: they
tolerate the taint `kwok.x-k8s.io/node=fake:NoSchedule` and require the node label `type: kwok`, on
top of the Cluster's own affinity (a real node could not pull the PostgreSQL image).

PostgreSQL runs only when asked: with `--postgres-listen=<IP> --postgres-dir=<directory>`, each
Cluster gets real servers (Debian's, through tools/localrun/postgres_server.py; see
_cnpg_postgres.py): a primary with the database and owner of `bootstrap.initdb` (the owner's
password from the initdb secret or the generated `-app` secret, a changed password set with ALTER
ROLE) and a hot standby per further instance, listening on that IP, each on a free port, taking
password logins (scram-sha-256) from the pod network 10.244.0.0/16 and the IP itself. The `-rw`,
`-ro` and `-r` Services then have no selector; the stand-in writes their EndpointSlices (the
primary, the standbys, all). The servers stop, their data kept, when the Cluster is deleted and when
the stand-in exits (SIGTERM). Without `--postgres-listen` no server runs: tests that need a
database use a real local server.

For each `Backup` (on demand) it checks what the operator checks before it starts one
(internal/controller/backup_controller.go: the method needs the Cluster's plugins, its backup
section, or that section's `volumeSnapshot` / `barmanObjectStore`), and reports it `failed` with
the operator's error when one is missing; otherwise, once the Cluster is healthy, `completed`
(`method`, `startedAt`, `stoppedAt`). No data is copied. A Backup of a Cluster that does not exist,
or is not healthy yet, waits, as with the operator. A test makes every Backup of a Cluster fail
with the annotation `testcluster.homelab.mlflow/backup-error: <error>` on that Cluster (test only;
the operator knows no such annotation).

Simplified on purpose: instances are always `<cluster>-1` .. `-N` with `-1` the primary; pods
are not rolled on spec changes; PVCs are never deleted (the operator deletes an instance's claim
on scale-down and owns all claims, so deleting the Cluster would delete them).
"""

from __future__ import annotations

import argparse
import base64
import copy
import ipaddress
import logging
import secrets
import string
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from _base import KeyedWorker, reconcile_forever, start
from _cnpg_postgres import SLICE_MANAGER, Owner, Servers, endpoint_slices, service_spec
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

GROUP, VERSION, PLURAL = "postgresql.cnpg.io", "v1", "clusters"
BACKUPS = "backups"
# Test only: every Backup of a Cluster with this annotation fails with its value as the error.
BACKUP_ERROR_ANNOTATION = "testcluster.homelab.mlflow/backup-error"
PORT = 5432
DEFAULT_IMAGE = "ghcr.io/cloudnative-pg/postgresql:17"
DATA_MOUNT = "/var/lib/postgresql/data"
CLUSTER_DOMAIN = "cluster.local"
PHASE_HEALTHY = "Cluster in healthy state"
PHASE_FIRST_PRIMARY = "Setting up primary"
PHASE_WAITING = "Waiting for the instances to become active"
MERGE_PATCH = "application/merge-patch+json"
# Instance pods run on the simulated nodes only, which the real-node mode taints.
KWOK_NODE_EXPRESSION = {"key": "type", "operator": "In", "values": ["kwok"]}
KWOK_TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Equal", "value": "fake", "effect": "NoSchedule"}

log = logging.getLogger("cnpg-operator-standin")


class Waiting(Exception):
    """A Cluster cannot go on yet; its sync is retried later."""


# --- what the operator creates for a Cluster ----------------------------------------------


def owner_reference(cluster: dict) -> dict:
    meta = cluster["metadata"]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Cluster",
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def object_meta(cluster: dict, name: str, labels: dict | None = None, owned: bool = True) -> dict:
    meta = {
        "name": name,
        "namespace": cluster["metadata"]["namespace"],
        "labels": {"cnpg.io/cluster": cluster["metadata"]["name"], **(labels or {})},
    }
    if owned:
        meta["ownerReferences"] = [owner_reference(cluster)]
    return meta


def services(cluster: dict, selector: bool = True) -> list[dict]:
    """`-rw` selects the primary, `-ro` the replicas, `-r` every instance: the operator's selectors.
    Without `selector` (real servers outside the cluster), EndpointSlices say where they are."""
    name = cluster["metadata"]["name"]
    extra_selector = {
        "rw": {"cnpg.io/instanceRole": "primary"},
        "ro": {"cnpg.io/instanceRole": "replica"},
        "r": {"cnpg.io/podRole": "instance"},
    }
    return [
        {
            "metadata": object_meta(cluster, f"{name}-{suffix}"),
            "spec": {
                "type": "ClusterIP",
                "ports": [{"name": "postgres", "port": PORT, "targetPort": PORT, "protocol": "TCP"}],
                **({"selector": {"cnpg.io/cluster": name, **extra}} if selector else {}),
            },
        }
        for suffix, extra in extra_selector.items()
    ]


def connection_data(namespace: str, host: str, dbname: str, user: str, password: str) -> dict:
    """The keys of the operator's credential secrets (pkg/specs/secrets.go)."""

    def uri(address: str) -> str:
        return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{address}/{quote(dbname)}"

    def jdbc(address: str) -> str:
        query = urlencode({"password": password, "user": user})
        return f"jdbc:postgresql://{address}/{quote(dbname)}?{query}"

    short, fqdn = f"{host}.{namespace}:{PORT}", f"{host}.{namespace}.svc.{CLUSTER_DOMAIN}:{PORT}"
    return {
        "username": user,
        "user": user,
        "password": password,
        "dbname": dbname,
        "host": host,
        "port": str(PORT),
        "pgpass": f"{host}:{PORT}:{dbname}:{user}:{password}\n",
        "uri": uri(short),
        "jdbc-uri": jdbc(short),
        "fqdn-uri": uri(fqdn),
        "fqdn-jdbc-uri": jdbc(fqdn),
    }


def initdb_config(cluster: dict) -> dict | None:
    """spec.bootstrap.initdb; a Cluster without a bootstrap section is bootstrapped by initdb too."""
    bootstrap = cluster["spec"].get("bootstrap") or {}
    return bootstrap.get("initdb", None if bootstrap else {})


def initdb_secret_name(cluster: dict) -> str | None:
    return ((initdb_config(cluster) or {}).get("secret") or {}).get("name")


def app_secret(cluster: dict) -> dict | None:
    """`<cluster>-app` with a generated password, or None when the operator would not create it.

    The operator creates it only for an initdb bootstrap that names no secret: a named secret
    holds the owner's credentials and is itself the application secret.
    """
    initdb = initdb_config(cluster)
    if initdb is None or initdb_secret_name(cluster):
        return None
    name, namespace = cluster["metadata"]["name"], cluster["metadata"]["namespace"]
    database = initdb.get("database") or "app"
    owner = initdb.get("owner") or database
    password = "".join(secrets.choice(string.ascii_letters + string.digits) for _position in range(64))
    labels = {"cnpg.io/userType": "app", "cnpg.io/reload": "true"}
    return {
        "metadata": object_meta(cluster, f"{name}-app", labels),
        "type": "kubernetes.io/basic-auth",
        "stringData": connection_data(namespace, f"{name}-rw", database, owner, password),
    }


def instance_claim(cluster: dict, serial: int) -> dict:
    """The instance's data volume: spec.storage.pvcTemplate, with size and storageClass on top."""
    name, storage = cluster["metadata"]["name"], cluster["spec"].get("storage") or {}
    spec = copy.deepcopy(storage.get("pvcTemplate") or {})
    spec.setdefault("accessModes", ["ReadWriteOnce"])
    if storage.get("size"):
        spec.setdefault("resources", {}).setdefault("requests", {})["storage"] = storage["size"]
    if storage.get("storageClass"):
        spec["storageClassName"] = storage["storageClass"]
    labels = {"cnpg.io/instanceName": f"{name}-{serial}", "cnpg.io/pvcRole": "PG_DATA"}
    # Not owned by the Cluster: the stand-in never lets data go (see the module docstring).
    meta = object_meta(cluster, f"{name}-{serial}", labels, owned=False)
    meta["annotations"] = {"cnpg.io/nodeSerial": str(serial)}
    return {"metadata": meta, "spec": spec}


def pod_affinity(cluster_name: str, config: dict) -> dict:
    """The operator's anti-affinity between instances (preferred unless `required`), plus the user's terms,
    and always on a kwok node (on_kwok_nodes)."""
    affinity: dict = {}
    if config.get("enablePodAntiAffinity", True):
        term = {
            "labelSelector": {
                "matchExpressions": [
                    {"key": "cnpg.io/cluster", "operator": "In", "values": [cluster_name]},
                    {"key": "cnpg.io/podRole", "operator": "In", "values": ["instance"]},
                ]
            },
            "topologyKey": config.get("topologyKey") or "kubernetes.io/hostname",
        }
        if config.get("podAntiAffinityType") == "required":
            affinity["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
        else:
            affinity["podAntiAffinity"] = {
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]
            }
    for kind, terms in (config.get("additionalPodAntiAffinity") or {}).items():
        affinity.setdefault("podAntiAffinity", {}).setdefault(kind, []).extend(terms)
    if config.get("additionalPodAffinity"):
        affinity["podAffinity"] = config["additionalPodAffinity"]
    affinity["nodeAffinity"] = on_kwok_nodes(config.get("nodeAffinity") or {})
    return affinity


def on_kwok_nodes(node_affinity: dict) -> dict:
    """The Cluster's node affinity, its required terms each also asking for `type: kwok` (terms are ORed,
    expressions within one ANDed), or that alone when it has none."""
    result = copy.deepcopy(node_affinity)
    required = result.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    terms = required.get("nodeSelectorTerms") or [{}]
    for term in terms:
        term.setdefault("matchExpressions", []).append(KWOK_NODE_EXPRESSION)
    required["nodeSelectorTerms"] = terms
    return result


def instance_pod(cluster: dict, serial: int) -> dict:
    """An instance pod as the operator shapes it: PodSecurity `restricted`, data on the instance's PVC."""
    name, spec = cluster["metadata"]["name"], cluster["spec"]
    pod_name, role = f"{name}-{serial}", "primary" if serial == 1 else "replica"
    uid, gid = spec.get("postgresUID", 26), spec.get("postgresGID", 26)
    seccomp = spec.get("seccompProfile") or {"type": "RuntimeDefault"}
    affinity = spec.get("affinity") or {}
    labels = {
        "cnpg.io/instanceName": pod_name,
        "cnpg.io/podRole": "instance",
        "cnpg.io/instanceRole": role,
        "role": role,  # `role` is the operator's legacy label
    }
    meta = object_meta(cluster, pod_name, labels)
    meta["annotations"] = {"cnpg.io/nodeSerial": str(serial)}
    container = {
        "name": "postgres",
        "image": spec.get("imageName") or DEFAULT_IMAGE,
        "ports": [
            {"name": "postgresql", "containerPort": PORT, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9187, "protocol": "TCP"},
            {"name": "status", "containerPort": 8000, "protocol": "TCP"},
        ],
        "resources": spec.get("resources") or {},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "seccompProfile": seccomp,
        },
        "volumeMounts": [{"name": "pgdata", "mountPath": DATA_MOUNT}],
    }
    pod_spec = {
        "hostname": pod_name,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": uid,
            "runAsGroup": gid,
            "fsGroup": gid,
            "seccompProfile": seccomp,
        },
        "containers": [container],
        "volumes": [{"name": "pgdata", "persistentVolumeClaim": {"claimName": pod_name}}],
        "affinity": pod_affinity(name, affinity),
        "nodeSelector": affinity.get("nodeSelector"),
        "tolerations": [*(affinity.get("tolerations") or []), KWOK_TOLERATION],
        "topologySpreadConstraints": spec.get("topologySpreadConstraints"),
    }
    return {"metadata": meta, "spec": {k: v for k, v in pod_spec.items() if v is not None}}


def cluster_status(cluster: dict, ready: set[str]) -> dict:
    """The status fields the operator reports, given which instance pods are Ready."""
    name, instances = cluster["metadata"]["name"], cluster["spec"].get("instances", 1)
    names = [f"{name}-{serial}" for serial in range(1, instances + 1)]
    primary = names[0]
    healthy = len(ready) == instances
    phase = PHASE_HEALTHY if healthy else PHASE_WAITING if primary in ready else PHASE_FIRST_PRIMARY
    condition = {
        "type": "Ready",
        "status": "True" if healthy else "False",
        "reason": "ClusterIsReady" if healthy else "ClusterIsNotReady",
        "message": "Cluster is Ready" if healthy else "Cluster Is Not Ready",
    }
    previous = next((c for c in cluster.get("status", {}).get("conditions", []) if c["type"] == "Ready"), {})
    # The transition time only moves when the condition does, so an unchanged status is not rewritten.
    condition["lastTransitionTime"] = (
        previous["lastTransitionTime"]
        if previous.get("status") == condition["status"]
        else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    return {
        "instances": instances,
        "readyInstances": len(ready),
        "instanceNames": names,
        "phase": phase,
        "currentPrimary": primary,
        "targetPrimary": primary,
        "writeService": f"{name}-rw",
        "readService": f"{name}-r",
        "image": cluster["spec"].get("imageName") or DEFAULT_IMAGE,
        "conditions": [condition],
    }


def backup_prerequisite_error(backup: dict, cluster: dict) -> str | None:
    """The operator's refusal of a Backup its Cluster is not configured for (checkPrerequisites), or the
    test's error from the Cluster's annotation; None when the Backup can run."""
    annotated = (cluster["metadata"].get("annotations") or {}).get(BACKUP_ERROR_ANNOTATION)
    if annotated:
        return annotated
    method, spec = (backup.get("spec") or {}).get("method", "barmanObjectStore"), cluster["spec"]
    if method == "plugin":
        return None if spec.get("plugins") else "cannot proceed with the backup as the cluster has no plugin configured"
    section = spec.get("backup")
    if section is None:
        return "cannot proceed with the backup as the cluster has no backup section"
    if method in ("volumeSnapshot", "barmanObjectStore") and not section.get(method):
        return f"no {method} section defined on the target cluster"
    return None


def backup_status(backup: dict, error: str | None) -> dict:
    """The status of a finished Backup: completed, or failed with the error."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {"method": (backup.get("spec") or {}).get("method", "barmanObjectStore"), "startedAt": now}
    if error:
        return {**status, "phase": "failed", "error": error}
    return {**status, "phase": "completed", "stoppedAt": now}


def is_ready(pod: client.V1Pod) -> bool:
    conditions = (pod.status and pod.status.conditions) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


# --- the controller -----------------------------------------------------------------------


class Operator(KeyedWorker):
    """Watches feed cluster keys into one queue; one worker syncs them, so syncs never overlap."""

    def __init__(self, api: client.ApiClient, servers: Servers | None = None):
        super().__init__(log)
        self.api = api
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.discovery = client.DiscoveryV1Api(api)
        self.servers = servers
        # (namespace, secret) -> the Cluster whose owner's password it holds: a change reaches the server.
        self.password_secrets: dict[tuple[str, str], str] = {}

    def on_secret(self, event: str, secret: dict) -> None:
        meta = secret["metadata"]
        cluster = self.password_secrets.get((meta["namespace"], meta["name"]))
        if cluster and event != "DELETED":
            self.enqueue((meta["namespace"], cluster))

    def on_cluster(self, event: str, cluster: dict) -> None:
        self.enqueue((cluster["metadata"]["namespace"], cluster["metadata"]["name"]))

    def on_pod(self, event: str, pod: dict) -> None:
        # Readiness of an instance changes the Cluster's status; a deleted instance is recreated.
        self.enqueue((pod["metadata"]["namespace"], pod["metadata"]["labels"]["cnpg.io/cluster"]))

    def sync(self, namespace: str, name: str) -> None:
        # Always the current object: a watch event may predate our own last status write.
        try:
            cluster = self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        except ApiException as err:
            if err.status == 404:  # deleted: the garbage collector removes what it owned
                self.stop_servers(namespace, name)
                return
            raise
        if cluster["metadata"].get("deletionTimestamp") or self.terminating(namespace):
            self.stop_servers(namespace, name)
            return  # going away: whatever would be (re)created now would only be refused or collected
        self.ensure_services(cluster)
        self.ensure_app_secret(cluster)
        missing = self.missing_bootstrap_secret(cluster)
        ready = set() if missing else self.ensure_instances(cluster)
        if self.servers is not None and not missing:
            ready &= self.ensure_servers(cluster)
        self.update_status(cluster, ready)
        if missing:
            raise Waiting(f"secret {missing!r} named in bootstrap.initdb does not exist")

    def missing_bootstrap_secret(self, cluster: dict) -> str | None:
        """The initdb secret's name while it is needed and absent: the operator cannot create the database."""
        name, namespace = initdb_secret_name(cluster), cluster["metadata"]["namespace"]
        primary = f"{cluster['metadata']['name']}-1"
        if not name or self.exists(self.core.read_namespaced_persistent_volume_claim, primary, namespace):
            return None  # none named, or bootstrapped already (the secret is only read then)
        return None if self.exists(self.core.read_namespaced_secret, name, namespace) else name

    def terminating(self, namespace: str) -> bool:
        return self.core.read_namespace(namespace).status.phase == "Terminating"

    def ensure_services(self, cluster: dict) -> None:
        existing = {s.metadata.name for s in self.list_of_cluster(cluster, "service")}
        for service in services(cluster, selector=self.servers is None):
            if service["metadata"]["name"] not in existing:
                self.create(self.core.create_namespaced_service, service)

    # --- real servers (--postgres-listen) --------------------------------------------------

    def stop_servers(self, namespace: str, name: str) -> None:
        if self.servers is not None:
            self.servers.stop(namespace, name)

    def ensure_servers(self, cluster: dict) -> set[str]:
        """The Cluster's servers running with the owner's current password, the Services pointing at them;
        returns the instances served."""
        meta = cluster["metadata"]
        owner = self.owner(cluster)
        ports = self.servers.ensure(meta["namespace"], meta["name"], cluster["spec"].get("instances", 1), owner)
        self.ensure_endpoint_slices(cluster, ports)
        self.ensure_service_ports(cluster, ports)
        return set(ports)

    def owner(self, cluster: dict) -> Owner:
        """The database and owner of bootstrap.initdb, the password from its secret (or the generated `-app`)."""
        meta, initdb = cluster["metadata"], initdb_config(cluster) or {}
        secret_name = initdb_secret_name(cluster) or f"{meta['name']}-app"
        self.password_secrets[(meta["namespace"], secret_name)] = meta["name"]
        try:
            secret = self.core.read_namespaced_secret(secret_name, meta["namespace"])
        except ApiException as err:
            if err.status == 404:
                raise Waiting(f"secret {secret_name!r} with the owner's password does not exist") from None
            raise
        password = base64.b64decode((secret.data or {}).get("password", "")).decode()
        if not password:
            raise Waiting(f"secret {secret_name!r} has no password")
        database = initdb.get("database") or "app"
        return Owner(database, initdb.get("owner") or database, password)

    def ensure_endpoint_slices(self, cluster: dict, ports: dict[str, int]) -> None:
        namespace = cluster["metadata"]["namespace"]
        slices = endpoint_slices(cluster, lambda n, labels: object_meta(cluster, n, labels), self.servers.listen, ports)
        wanted = {body["metadata"]["name"]: body for body in slices}
        managed_by = f"endpointslice.kubernetes.io/managed-by={SLICE_MANAGER}"
        selector = f"cnpg.io/cluster={cluster['metadata']['name']},{managed_by}"
        existing = {
            found.metadata.name: self.api.sanitize_for_serialization(found)
            for found in self.discovery.list_namespaced_endpoint_slice(namespace, label_selector=selector).items
        }
        for name in existing.keys() - wanted.keys():
            self.discovery.delete_namespaced_endpoint_slice(name, namespace)
        for name, body in wanted.items():
            current = existing.get(name)
            if current is None:
                self.create(self.discovery.create_namespaced_endpoint_slice, body)
            elif (current.get("endpoints"), current.get("ports")) != (body["endpoints"], body["ports"]):
                patch = {"endpoints": body["endpoints"], "ports": body["ports"]}
                self.discovery.patch_namespaced_endpoint_slice(name, namespace, patch, _content_type=MERGE_PATCH)
                log.info("pointed %s/%s at port %d", namespace, name, body["ports"][0]["port"])

    def ensure_service_ports(self, cluster: dict, ports: dict[str, int]) -> None:
        """No selector, and port 5432 mapped to the server's port (which is new at every start)."""
        namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
        for suffix in ("rw", "ro", "r"):
            service = self.core.read_namespaced_service(f"{name}-{suffix}", namespace)
            current = self.api.sanitize_for_serialization(service)["spec"]
            wanted = service_spec(suffix, ports)
            if current.get("selector") or current.get("ports") != wanted["ports"]:
                patch = {"spec": {"selector": None, "ports": wanted["ports"]}}
                self.core.patch_namespaced_service(f"{name}-{suffix}", namespace, patch, _content_type=MERGE_PATCH)

    def ensure_app_secret(self, cluster: dict) -> None:
        secret = app_secret(cluster)
        if secret is None:
            return
        meta = secret["metadata"]
        if not self.exists(self.core.read_namespaced_secret, meta["name"], meta["namespace"]):
            self.create(self.core.create_namespaced_secret, secret)

    def ensure_instances(self, cluster: dict) -> set[str]:
        """Claims and pods for instances 1..N, surplus pods deleted; returns the names of Ready instances."""
        namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
        claims = {c.metadata.name: c for c in self.list_of_cluster(cluster, "persistent_volume_claim")}
        pods = {p.metadata.name: p for p in self.list_of_cluster(cluster, "pod", "cnpg.io/podRole=instance")}
        wanted = {f"{name}-{serial}": serial for serial in range(1, cluster["spec"].get("instances", 1) + 1)}
        for instance, serial in wanted.items():
            claim = instance_claim(cluster, serial)
            if instance in claims:
                self.grow_claim(claims[instance], claim)
            else:
                self.create(self.core.create_namespaced_persistent_volume_claim, claim)
            if instance not in pods:
                self.create(self.core.create_namespaced_pod, instance_pod(cluster, serial))
        live = {pod_name: pod for pod_name, pod in pods.items() if not pod.metadata.deletion_timestamp}
        for surplus in live.keys() - wanted.keys():
            self.core.delete_namespaced_pod(surplus, namespace)
            log.info("deleted surplus instance %s/%s (its PVC is kept)", namespace, surplus)
        return {pod_name for pod_name, pod in live.items() if pod_name in wanted and is_ready(pod)}

    def list_of_cluster(self, cluster: dict, kind: str, extra_selector: str = "") -> list:
        """The cluster's objects of one kind (by the operator's `cnpg.io/cluster` label)."""
        selector = ",".join(filter(None, [f"cnpg.io/cluster={cluster['metadata']['name']}", extra_selector]))
        list_func = getattr(self.core, f"list_namespaced_{kind}")
        return list_func(cluster["metadata"]["namespace"], label_selector=selector).items

    def grow_claim(self, current: client.V1PersistentVolumeClaim, wanted: dict) -> None:
        """A larger spec.storage.size is applied to existing claims; volumes never shrink."""
        size = wanted["spec"].get("resources", {}).get("requests", {}).get("storage")
        requests = (current.spec.resources and current.spec.resources.requests) or {}
        if size and "storage" in requests and parse_quantity(size) > parse_quantity(requests["storage"]):
            self.core.patch_namespaced_persistent_volume_claim(
                current.metadata.name,
                current.metadata.namespace,
                {"spec": {"resources": {"requests": {"storage": size}}}},
                _content_type=MERGE_PATCH,
            )
            log.info("resized %s/%s to %s", current.metadata.namespace, current.metadata.name, size)

    def update_status(self, cluster: dict, ready: set[str]) -> None:
        status = cluster_status(cluster, ready)
        current = cluster.get("status") or {}
        if all(current.get(key) == value for key, value in status.items()):
            return  # nothing changed: no write
        meta = cluster["metadata"]
        self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, meta["namespace"], PLURAL, meta["name"], {"status": status}
        )
        log.info(
            "%s/%s: %s (%d/%d ready)",
            meta["namespace"],
            meta["name"],
            status["phase"],
            status["readyInstances"],
            status["instances"],
        )

    @staticmethod
    def exists(read_func, name: str, namespace: str) -> bool:
        try:
            read_func(name, namespace)
        except ApiException as err:
            if err.status == 404:
                return False
            raise
        return True

    @staticmethod
    def create(create_func, body: dict) -> None:
        meta = body["metadata"]
        try:
            create_func(meta["namespace"], body)
        except ApiException as err:
            if err.status != 409:  # already there (a concurrent creator): nothing to do
                raise
            return
        # Names only: a secret's values never reach the log.
        log.info(
            "created %s %s/%s",
            create_func.__name__.removeprefix("create_namespaced_"),
            meta["namespace"],
            meta["name"],
        )


class BackupOperator(KeyedWorker):
    """Finishes each on-demand Backup once: completed for a healthy, configured Cluster, failed otherwise."""

    def __init__(self, api: client.ApiClient):
        super().__init__(logging.getLogger("cnpg-operator-standin.backups"))
        self.custom = client.CustomObjectsApi(api)

    def on_backup(self, event: str, backup: dict) -> None:
        if event != "DELETED":
            self.enqueue((backup["metadata"]["namespace"], backup["metadata"]["name"]))

    def sync(self, namespace: str, name: str) -> None:
        try:
            backup = self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, BACKUPS, name)
        except ApiException as err:
            if err.status == 404:
                return
            raise
        if (backup.get("status") or {}).get("phase") in ("completed", "failed"):
            return  # a Backup runs once
        cluster_name = ((backup.get("spec") or {}).get("cluster") or {}).get("name", "")
        try:
            cluster = self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, cluster_name)
        except ApiException as err:
            if err.status == 404:
                raise Waiting(f"unknown cluster {cluster_name!r}") from None
            raise
        error = backup_prerequisite_error(backup, cluster)
        if error is None and (cluster.get("status") or {}).get("phase") != PHASE_HEALTHY:
            raise Waiting(f"cluster {cluster_name!r} is not healthy yet")
        status = backup_status(backup, error)
        self.custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, BACKUPS, name, {"status": status})
        self.log.info("backup %s/%s of %s: %s", namespace, name, cluster_name, status["phase"])


def postgres_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres-listen",
        metavar="IP",
        help="run real PostgreSQL servers for every Cluster, listening on this address (default: none runs)",
    )
    parser.add_argument(
        "--postgres-dir", type=Path, help="where the servers keep their data (required with --postgres-listen)"
    )


def main() -> None:
    api, args = start(__doc__, postgres_arguments)
    servers = None
    if args.postgres_listen:
        if not args.postgres_dir:
            raise SystemExit("--postgres-listen needs --postgres-dir")
        if ipaddress.ip_address(args.postgres_listen).is_loopback:
            # The API server refuses loopback addresses in EndpointSlices.
            raise SystemExit(
                f"--postgres-listen is {args.postgres_listen}: give an address of the host that is not loopback"
            )
        servers = Servers(args.postgres_listen, args.postgres_dir)
    operator, backups = Operator(api, servers), BackupOperator(api)
    watches = [
        (
            "clusters",
            operator.custom.list_cluster_custom_object,
            operator.on_cluster,
            {"group": GROUP, "version": VERSION, "plural": PLURAL},
        ),
        (
            "pods",
            operator.core.list_pod_for_all_namespaces,
            operator.on_pod,
            {"label_selector": "cnpg.io/cluster,cnpg.io/podRole=instance"},
        ),
        (
            "backups",
            backups.custom.list_cluster_custom_object,
            backups.on_backup,
            {"group": GROUP, "version": VERSION, "plural": BACKUPS},
        ),
    ]
    if servers is not None:
        watches.append(("secrets", operator.core.list_secret_for_all_namespaces, operator.on_secret, {}))
    for name, list_func, handle, kwargs in watches:
        watch = threading.Thread(target=reconcile_forever, args=(name, list_func, handle), kwargs=kwargs)
        watch.daemon = True
        watch.start()
    threading.Thread(target=backups.work_forever, daemon=True).start()
    try:
        operator.work_forever()
    finally:  # SIGTERM (testcluster down) included: no server outlives the stand-in
        if servers is not None:
            servers.stop_all()


if __name__ == "__main__":
    main()
