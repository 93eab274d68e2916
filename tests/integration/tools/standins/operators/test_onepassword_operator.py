"""The 1Password operator stand-in (tools/standins/operators/onepassword_operator.py) on the test cluster.

It must turn a `OnePasswordItem` into the Secret the real operator makes of it, reading the item
from the test cluster's fake 1Password Connect server (data: tools/testcluster/onepassword-connect.yaml):
keys after the field labels, the type of the OnePasswordItem, its labels, the operator's
annotations and owner reference, a finalizer that takes the Secret along, and the `Ready`
condition; never a change of a Secret's type, and no read or write when nothing changed.
"""

from __future__ import annotations

import base64
import time

import pytest
from ansible_runs import eventually
from kube_namespaces import restricted_namespace
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from onepassword_connect.server import fake_id, load_data
from procs import Processes
from testcluster import FAKE_CONNECT_DATA

GROUP, VERSION, PLURAL = "onepassword.com", "v1", "onepassworditems"
STANDIN, STANDINS_USER = "standin-onepassword_operator", "system:testcluster-standins"
FINALIZER = "onepassword.com/finalizer.secret"
BASIC_AUTH = "kubernetes.io/basic-auth"
SECRETS_VAULT = fake_id("vault", "Secrets")


def item_fields(title: str) -> list[dict]:
    [vault] = [v for v in load_data(FAKE_CONNECT_DATA)["vaults"] if v["name"] == "Secrets"]
    [item] = [i for i in vault["items"] if i["title"] == title]
    return item["fields"]


@pytest.fixture(scope="module", autouse=True)
def standin_running(testcluster):
    """The stand-in runs (`testcluster.py up` starts it, also on a cluster started before it existed)."""
    if not Processes(testcluster.state).alive(STANDIN):
        pytest.fail(f"{STANDIN} does not run: start it with tools/testcluster/testcluster.py up")


@pytest.fixture
def namespace(k8s):
    with restricted_namespace(k8s, "op-standin") as name:
        yield name


def create_item(custom, namespace: str, item_path: str, name: str = "creds", **extra) -> dict:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "OnePasswordItem",
        "metadata": {"name": name, **extra.pop("metadata", {})},
        "spec": {"itemPath": item_path},
        **extra,
    }
    return custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def read_item(custom, namespace: str, name: str = "creds") -> dict:
    return custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)


def ready(custom, namespace: str, name: str = "creds") -> dict:
    conditions = (read_item(custom, namespace, name).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == "Ready"), {})


def wait_ready(custom, namespace: str, status: str = "True", name: str = "creds") -> dict:
    return eventually(
        lambda: (ready(custom, namespace, name).get("status") == status) and ready(custom, namespace, name),
        what=f"OnePasswordItem {name} Ready {status}",
    )


def read_secret(core, namespace: str, name: str = "creds") -> client.V1Secret | None:
    try:
        return core.read_namespaced_secret(name, namespace)
    except ApiException as err:
        if err.status == 404:
            return None
        raise


def decoded(secret: client.V1Secret) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


def reads_logged(testcluster, namespace: str) -> int:
    """Item reads the stand-in logged for OnePasswordItems of `namespace` (it logs each, names only)."""
    log = (testcluster.state / "logs" / f"{STANDIN}.log").read_text()
    return sum(1 for line in log.splitlines() if "read item " in line and f" for {namespace}/" in line)


def test_standin_onepassword_operator_makes_the_secret_of_an_item(custom, core, namespace, testcluster):
    labels = {"app.kubernetes.io/name": "postgresql", "cnpg.io/reload": "true"}
    resource = create_item(
        custom, namespace, "vaults/Secrets/items/mlflow-secrets", type=BASIC_AUTH, metadata={"labels": labels}
    )

    condition = wait_ready(custom, namespace)
    secret = read_secret(core, namespace)

    assert secret.type == BASIC_AUTH
    assert decoded(secret) == {field["label"]: field["value"] for field in item_fields("mlflow-secrets")}
    assert decoded(secret)["username"] == "mlflow"
    assert secret.metadata.labels == labels
    item_id = fake_id("item", SECRETS_VAULT, "mlflow-secrets")
    assert secret.metadata.annotations == {
        "operator.1password.io/item-path": f"vaults/{SECRETS_VAULT}/items/{item_id}",
        "operator.1password.io/item-version": "1",
    }
    [owner] = secret.metadata.owner_references
    assert (owner.api_version, owner.kind, owner.name, owner.uid) == (
        f"{GROUP}/{VERSION}",
        "OnePasswordItem",
        "creds",
        resource["metadata"]["uid"],
    )
    assert FINALIZER in read_item(custom, namespace)["metadata"]["finalizers"]
    assert "message" not in condition
    assert condition["lastTransitionTime"]
    assert reads_logged(testcluster, namespace) == 1


def test_standin_onepassword_operator_names_keys_after_field_labels(custom, core, namespace):
    # IDs instead of names, no type: an Opaque Secret.
    item_id = fake_id("item", SECRETS_VAULT, "object storage")
    create_item(custom, namespace, f"vaults/{SECRETS_VAULT}/items/{item_id}")

    wait_ready(custom, namespace)
    secret = read_secret(core, namespace)

    assert secret.type == "Opaque"
    assert decoded(secret) == {
        "access-key-id": "fake-AKIA-111111111111",
        "secret-access-key": "fake-S3-Secret-5e0a77",
        "url": "https://s3.example.com",
        # Two fields labelled region: the later one (in section replica) wins, as with the operator.
        "region": "eu-central-1",
    }


def test_standin_onepassword_operator_reports_what_it_cannot_read(custom, core, namespace):
    create_item(custom, namespace, "vaults/Secrets/items/nope", name="missing-item")
    create_item(custom, namespace, "vaults/Nope/items/mlflow-secrets", name="missing-vault")
    create_item(custom, namespace, "Secrets/mlflow-secrets", name="bad-path")

    missing_item = wait_ready(custom, namespace, "False", "missing-item")
    missing_vault = wait_ready(custom, namespace, "False", "missing-vault")
    bad_path = wait_ready(custom, namespace, "False", "bad-path")

    assert missing_item["message"].startswith("failed to retrieve item: ")
    assert 'no items found with identifier "nope"' in missing_item["message"]
    assert 'no vaults found with identifier "Nope"' in missing_vault["message"]
    assert "is not an acceptable path for One Password item" in bad_path["message"]
    assert not core.list_namespaced_secret(namespace).items


def test_standin_onepassword_operator_never_changes_the_type_of_a_secret(custom, core, namespace):
    core.create_namespaced_secret(namespace, {"metadata": {"name": "creds"}, "stringData": {"note": "kept"}})

    create_item(custom, namespace, "vaults/Secrets/items/mlflow-secrets", type=BASIC_AUTH)

    condition = wait_ready(custom, namespace, "False")
    assert condition["message"] == "cannot change secret type: secret type is immutable"
    secret = read_secret(core, namespace)
    assert (secret.type, decoded(secret)) == ("Opaque", {"note": "kept"})


def test_standin_onepassword_operator_takes_over_a_secret_of_the_same_type(custom, core, namespace):
    body = {"metadata": {"name": "creds"}, "type": BASIC_AUTH, "stringData": {"username": "old", "stale": "x"}}
    core.create_namespaced_secret(namespace, body)

    create_item(custom, namespace, "vaults/Secrets/items/mlflow-secrets", type=BASIC_AUTH)

    wait_ready(custom, namespace)
    data = decoded(read_secret(core, namespace))
    assert data == {field["label"]: field["value"] for field in item_fields("mlflow-secrets")}


def test_standin_onepassword_operator_follows_a_new_item_path_and_labels(custom, core, namespace, testcluster):
    create_item(custom, namespace, "vaults/Secrets/items/mlflow-secrets", type=BASIC_AUTH)
    wait_ready(custom, namespace)

    patch = {"metadata": {"labels": {"team": "ml"}}, "spec": {"itemPath": "vaults/Secrets/items/wrong-owner"}}
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "creds", patch)

    secret = eventually(
        lambda: (s := read_secret(core, namespace)) and decoded(s)["username"] == "admin" and s,
        what="the Secret made of item wrong-owner",
    )
    assert secret.metadata.labels == {"team": "ml"}
    assert reads_logged(testcluster, namespace) == 2


def test_standin_onepassword_operator_deletes_the_secret_with_its_item(custom, core, namespace):
    create_item(custom, namespace, "vaults/Secrets/items/mlflow-secrets", type=BASIC_AUTH)
    wait_ready(custom, namespace)

    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "creds")

    def gone():
        try:
            read_item(custom, namespace)
        except ApiException as err:
            return err.status == 404 and read_secret(core, namespace) is None
        return False

    eventually(gone, what="the OnePasswordItem released by its finalizer, and its Secret deleted")


def test_standin_onepassword_operator_reads_and_writes_nothing_when_nothing_changed(custom, namespace, testcluster):
    create_item(custom, namespace, "vaults/Secrets/items/mlflow-secrets", type=BASIC_AUTH)
    wait_ready(custom, namespace)
    audit = testcluster.audit
    mark = audit.mark()

    # A change that is not the operator's business still makes it look at the OnePasswordItem again.
    patch = {"metadata": {"annotations": {"example.com/touched": "yes"}}}
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "creds", patch)

    def synced():
        requests = audit.requests(mark, STANDINS_USER, namespace)
        # A sync reads the OnePasswordItem, then its Secret.
        got = [i for i, r in enumerate(requests) if r.verb == "get" and r.resource.endswith("/onepassworditems")]
        return got and any(r.verb == "get" and r.resource == "/secrets" for r in requests[got[0] :])

    eventually(synced, what="the stand-in to sync the touched OnePasswordItem")
    time.sleep(1)  # room for any write that would follow the last read
    assert audit.writes(mark, STANDINS_USER, namespace) == []
    assert reads_logged(testcluster, namespace) == 1
