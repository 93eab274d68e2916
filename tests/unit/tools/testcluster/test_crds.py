"""The test cluster installs the upstream CRDs from ../shared/schemas, or fetches the same pinned
files when that folder is absent, and says clearly when it can do neither; the CRDs the shared folder
lacks come from a pinned Go module (modules/<name>, fetched with `go mod download`)."""

from __future__ import annotations

import urllib.request

import pytest
import testcluster
import yaml


def _kinds(documents: str) -> list[str]:
    return [d["spec"]["names"]["kind"] for d in yaml.safe_load_all(documents) if d]


def test_crds_come_from_the_shared_schemas(monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    if not testcluster.shared_schemas_dir().is_dir():
        pytest.fail(
            f"{testcluster.shared_schemas_dir()} does not exist: put the shared schema folder beside the checkout "
            "(../shared/schemas) or set HOMELAB_SHARED_SCHEMAS to it",
            pytrace=False,
        )
    kinds = _kinds(testcluster.crd_documents())
    for kind in [
        "Cluster",
        "ScheduledBackup",
        "Backup",
        "HTTPRoute",
        "Gateway",
        "CiliumNetworkPolicy",
        "OnePasswordItem",
        "Volume",
        "RecurringJob",
    ]:
        assert kind in kinds


def test_only_crds_are_kept_from_a_multi_document_upstream_file(monkeypatch, tmp_path):
    _fake_schemas(tmp_path, longhorn="kind: ServiceAccount\nmetadata: {name: x}\n---\n" + _crd("Volume"))
    monkeypatch.setenv("HOMELAB_SHARED_SCHEMAS", str(tmp_path))
    assert _kinds(testcluster.crd_documents()).count("Volume") == 1
    assert "ServiceAccount" not in testcluster.crd_documents()


def test_a_missing_file_in_the_schemas_folder_is_named(monkeypatch, tmp_path):
    _fake_schemas(tmp_path)
    (tmp_path / "cilium" / "ciliumnetworkpolicies.yaml").unlink()
    monkeypatch.setenv("HOMELAB_SHARED_SCHEMAS", str(tmp_path))
    with pytest.raises(testcluster.ClusterError, match=r"ciliumnetworkpolicies\.yaml is missing"):
        testcluster.crd_documents()


def test_without_the_schemas_folder_the_pinned_upstream_files_are_fetched(monkeypatch, tmp_path):
    fetched = []

    class Response:
        def __init__(self, url):
            self.url = url

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return _crd(self.url.rsplit("/", 1)[-1]).encode()

    def fake_urlopen(url, timeout):
        fetched.append(url)
        return Response(url)

    monkeypatch.setenv("HOMELAB_SHARED_SCHEMAS", str(tmp_path / "absent"))
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    testcluster.crd_documents()
    assert len(fetched) == len([s for s in yaml.safe_load((testcluster.HERE / "crds.yaml").read_text()) if "url" in s])
    assert all(url.startswith("https://raw.githubusercontent.com/") for url in fetched)
    assert any("/cloudnative-pg/v1.30.0/" in url for url in fetched)


def test_without_the_schemas_folder_or_network_the_error_is_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("HOMELAB_SHARED_SCHEMAS", str(tmp_path / "absent"))
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    with pytest.raises(testcluster.ClusterError, match=r"does not exist and https://\S+ cannot be fetched"):
        testcluster.crd_documents()


def test_the_backup_crd_comes_from_the_pinned_cloudnative_pg_module_of_the_shared_release():
    module = testcluster.pinned_module_dir("cloudnative-pg")
    bases = module / "config" / "crd" / "bases"

    assert module.name == "cloudnative-pg@v1.30.0"
    assert _kinds((bases / "postgresql.cnpg.io_backups.yaml").read_text()) == ["Backup"]
    # The same release as the shared schemas: its Cluster CRD is the shared one, byte for byte.
    shared = testcluster.shared_schemas_dir() / "cloudnative-pg" / "postgresql.cnpg.io_clusters.yaml"
    assert (bases / "postgresql.cnpg.io_clusters.yaml").read_bytes() == shared.read_bytes()


def test_a_pinned_module_that_does_not_match_its_go_sum_is_refused(monkeypatch, tmp_path):
    module = tmp_path / "modules" / "cloudnative-pg"
    module.mkdir(parents=True)
    pinned = testcluster.HERE / "modules" / "cloudnative-pg"
    (module / "go.mod").write_text((pinned / "go.mod").read_text())
    (module / "go.sum").write_text((pinned / "go.sum").read_text().replace("h1:fnh", "h1:xxx"))
    monkeypatch.setattr(testcluster, "HERE", tmp_path)

    with pytest.raises(testcluster.ClusterError, match=r"go mod download github.com/cloudnative-pg/cloudnative-pg"):
        testcluster.pinned_module_dir("cloudnative-pg")


def _no_network(*args, **kwargs):
    raise OSError("network is unreachable")


def _crd(kind: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{kind.lower()}s.example.com"},
            "spec": {"names": {"kind": kind}},
        }
    )


def _fake_schemas(root, longhorn=None):
    for source in yaml.safe_load((testcluster.HERE / "crds.yaml").read_text()):
        if source.get("go_module"):
            continue
        path = root / source["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(longhorn if (longhorn and source.get("only_crds")) else _crd(path.stem))
