"""cluster-up is safe to call twice, and cluster-down stops every process it started.

Runs a second, private cluster (own state directory and ports) so the session's cluster stays up.
"""

from __future__ import annotations

from pathlib import Path


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]


def test_up_twice_then_down_leaves_no_process(tmp_path, testcluster):
    private = testcluster.private(tmp_path / "cluster", port_offset=1000)
    assert private.up() is True
    try:
        pids = private.pids()
        assert {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} <= set(pids)
        assert any(name.startswith("standin-") for name in pids)
        assert private.kubeconfig.is_file()

        private._cli("up")  # the second call finds it running and starts nothing
        assert private.pids() == pids
        assert private.kubectl("get", "--raw", "/readyz").stdout == "ok"
    finally:
        private.down()

    assert [name for name, pid in pids.items() if _alive(pid)] == []
    assert not private.state.exists()
    # The session's cluster is untouched.
    assert testcluster.is_running()
