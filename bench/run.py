#!/usr/bin/env python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark the stack against the local test cluster: time and API requests of a first converge,
a no-op converge and a drift detect, for 1, 5 and 20 targets, each compared with the floor for the
same work, `kubectl apply --server-side` of exactly the objects the roles applied.

    bench/run.py [--repeat 3] [--targets 1,5,20] [--label latest] [--out bench/results] [--keep]

Writes <out>/<label>.json, <label>.md and <label>.png (time against the number of targets).
docs/benchmarks.md explains the phases and how to read the figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tools" / "testcluster"))

import apirequests  # noqa: E402
import figures  # noqa: E402
from handle import TestCluster  # noqa: E402

# The user of .testcluster/kubeconfig, whose requests the audit log records.
USER = "testcluster-admin"
FLOOR_MANAGER = "homelab.mlflow.bench-floor"
MANAGED = "app.kubernetes.io/managed-by=homelab.mlflow"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
SKIPPED = re.compile(r"^\S+\s*:\s*ok=(\d+).*?skipped=(\d+)", re.MULTILINE)
# Server-set fields that an object read back carries and an apply must not send.
SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink")


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each phase (medians are reported)")
    parser.add_argument("--targets", default="1,5,20", help="comma-separated numbers of targets (inventory hosts)")
    parser.add_argument("--label", default="latest", help="name of the result files")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder of the result files")
    parser.add_argument("--kubectl", default=shutil.which("kubectl") or "/usr/bin/kubectl", help="kubectl of the floor")
    parser.add_argument("--prefix", default="bench", help="prefix of the namespaces the benchmark creates")
    parser.add_argument("--keep", action="store_true", help="keep the namespaces and the work folder")
    parser.add_argument("--profile", action="store_true", help="also log per-task timings (profile_tasks)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds one playbook run may take")
    parsed = parser.parse_args(argv)
    parsed.targets = [int(n) for n in parsed.targets.split(",") if n.strip()]
    if parsed.repeat < 1 or not parsed.targets or min(parsed.targets) < 1:
        parser.error("--repeat and every number of --targets must be at least 1")
    return parsed


class Bench:
    def __init__(self, options: argparse.Namespace, work: Path):
        self.options = options
        self.work = work
        self.cluster = TestCluster()
        self.audit_log = self.cluster.layout.audit_log
        self.kubeconfig = str(self.cluster.kubeconfig)
        self.namespaces: list[str] = []
        self.python = str(Path(sys.executable))
        self.bin = Path(sys.executable).parent

    # -- one measured command ------------------------------------------------------------------
    def measure(self, name: str, command: list[str], namespaces: list[str], env: dict | None = None, ok=(0,)) -> dict:
        log_path = self.work / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        load = os.getloadavg()[0]
        timing_path = self.work / "timing" / f"{name}.json"
        timing_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(env or {})
        if "ANSIBLE_CALLBACKS_ENABLED" in env:  # an Ansible run: where its time goes (bench_timing)
            env.update(BENCH_TIMING_FILE=str(timing_path), BENCH_STARTED=str(time.time()))
        start_position = apirequests.mark(self.audit_log)
        started = time.monotonic()
        with open(log_path, "w", encoding="utf-8") as log:
            process = subprocess.run(  # noqa: S603
                command,
                cwd=REPO,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=self.options.timeout,
                check=False,
            )
        seconds = time.monotonic() - started
        end_position = apirequests.mark(self.audit_log)
        if process.returncode not in ok:
            raise SystemExit(f"{name}: {' '.join(command)} exited with {process.returncode}; see {log_path}")
        output = log_path.read_text(encoding="utf-8")
        recap = RECAP.findall(output)
        requests = apirequests.read(self.audit_log, start_position, end_position, user=USER)
        summary = apirequests.summarize(requests, namespaces)
        print(f"  {name}: {seconds:.1f} s, {summary.total} requests ({summary.writes} writes)", flush=True)
        tasks = [int(ok) + int(skipped) for ok, skipped in SKIPPED.findall(output)]
        return {
            "seconds": round(seconds, 2),
            "tasks_per_target": max(tasks) if tasks else None,
            "timing": json.loads(timing_path.read_text(encoding="utf-8")) if timing_path.exists() else None,
            "exit_code": process.returncode,
            "load_average": round(load, 2),
            "changed": sum(int(host[2]) for host in recap) if recap else None,
            "requests": summary.as_dict(),
        }

    # -- the stack -----------------------------------------------------------------------------
    def inventory(self, namespaces: list[str]) -> Path:
        """One host per namespace, each a target of its own on the local cluster."""
        folder = self.work / "inventory" / namespaces[0]
        hosts = {}
        for namespace in namespaces:
            hosts[namespace] = {
                "mlflow_namespace": namespace,
                "mlflow_external_host": f"{namespace}.localtest.me",
                "postgres_password_file": str(self.work / "secrets" / namespace / "postgres_password"),
            }
        content = {
            "all": {
                "hosts": hosts,
                "vars": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    "mlflow_kubeconfig": self.kubeconfig,
                    # Nothing answers MLflow's HTTP API on the local cluster (see inventories/local).
                    "mlflow_verify_http": False,
                    # The cluster's fake Authentik API, as inventories/local has it.
                    **self.cluster.authentik_settings(),
                },
            }
        }
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "hosts.yml"
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")
        return path

    def ansible_env(self, capture: Path | None = None) -> dict:
        enabled = [name for name in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if name]
        enabled.append("bench_timing")
        if capture is not None:
            enabled.append("bench_capture")
        if self.options.profile:
            enabled.append("ansible.posix.profile_tasks")
        env = {
            "ANSIBLE_CALLBACK_PLUGINS": str(REPO / "bench" / "callback_plugins"),
            "HOMELAB_MLFLOW_DRIFT_REPORT_DIR": str(self.work / "drift-report"),
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(enabled)
        if capture is not None:
            env["BENCH_CAPTURE_FILE"] = str(capture)
        return env

    def converge(self, name: str, inventory: Path, namespaces: list[str], capture: Path | None = None) -> dict:
        command = [str(self.bin / "ansible-playbook"), "playbooks/site.yml", "-i", str(inventory)]
        command += ["--forks", str(max(5, len(namespaces)))]
        return self.measure(name, command, namespaces, self.ansible_env(capture))

    def detect(self, name: str, inventory: Path, namespaces: list[str]) -> dict:
        command = [self.python, str(REPO / "bin" / "homelab-mlflow-drift"), "detect", "-i", str(inventory)]
        command += ["--forks", str(max(5, len(namespaces)))]
        # 0: in sync; 3: drift found, which a run right after a converge must not find.
        return self.measure(name, command, namespaces, self.ansible_env(), ok=(0, 3))

    # -- the floor -----------------------------------------------------------------------------
    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [self.options.kubectl, f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )

    def secrets(self, namespace: str) -> list[dict]:
        """The role-managed Secrets as applied: no_log hides their definitions from the capture."""
        found = json.loads(self.kubectl("get", "secrets", "-n", namespace, "-l", MANAGED, "-o", "json").stdout)
        objects = []
        for item in found.get("items", []):
            metadata = {k: v for k, v in item["metadata"].items() if k not in SERVER_METADATA}
            metadata.get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
            objects.append({k: v for k, v in {**item, "metadata": metadata}.items() if k != "status"})
        return objects

    def floor_objects(self, captured: dict, namespaces: list[str], floor_namespaces: list[str]) -> tuple[list, dict]:
        """The captured objects of every target, moved to the floor's namespaces; and a count by kind."""
        objects: list[dict] = []
        kinds: dict[str, int] = {}
        for namespace, floor in zip(namespaces, floor_namespaces, strict=True):
            applied = list(captured.get(namespace, []))
            keys = {(o["kind"], o["metadata"].get("name")) for o in applied}
            applied += [s for s in self.secrets(namespace) if ("Secret", s["metadata"]["name"]) not in keys]
            # The namespace first: everything else goes into it.
            applied.sort(key=lambda o: o["kind"] != "Namespace")
            for item in applied:
                kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
                objects.append(rename(item, namespace, floor))
        return objects, kinds

    def floor(self, name: str, objects: list[dict], floor_namespaces: list[str], phase: str) -> dict:
        path = self.work / f"{name}.json"
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), encoding="utf-8")
        path.chmod(0o600)  # the Secrets' data
        common = ["--server-side", f"--field-manager={FLOOR_MANAGER}", "--force-conflicts", "-f", str(path)]
        base = [self.options.kubectl, f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.work / 'kube-cache'}"]
        if phase == "floor_detect":
            # kubectl diff exits 1 when it finds a difference, which it must not here.
            return self.measure(name, [*base, "diff", *common], floor_namespaces)
        return self.measure(name, [*base, "apply", *common], floor_namespaces)

    # -- one number of targets -----------------------------------------------------------------
    def scale(self, targets: int) -> dict:
        runs: dict[str, list[dict]] = {phase: [] for phase in figures.PHASES}
        objects_per_target: dict[str, int] = {}
        for repetition in range(1, self.options.repeat + 1):
            tag = f"{self.options.prefix}-{os.getpid()}-t{targets}-r{repetition}"
            namespaces = [f"{tag}-{i}" for i in range(1, targets + 1)]
            floor_namespaces = [f"{tag}-floor-{i}" for i in range(1, targets + 1)]
            self.namespaces += namespaces + floor_namespaces
            print(f"{targets} target(s), repetition {repetition}:", flush=True)
            inventory = self.inventory(namespaces)
            capture = self.work / f"{tag}-capture.json"
            runs["first"].append(self.converge(f"{tag}-first", inventory, namespaces, capture))
            runs["noop"].append(self.converge(f"{tag}-noop", inventory, namespaces))
            runs["detect"].append(self.detect(f"{tag}-detect", inventory, namespaces))
            captured = json.loads(capture.read_text(encoding="utf-8"))
            objects, kinds = self.floor_objects(captured, namespaces, floor_namespaces)
            objects_per_target = {kind: count // targets for kind, count in sorted(kinds.items())}
            for phase in ("floor_first", "floor_noop", "floor_detect"):
                runs[phase].append(self.floor(f"{tag}-{phase}", objects, floor_namespaces, phase))
        medians = {phase: figures.summarize_runs(found) for phase, found in runs.items() if found}
        return {
            "targets": targets,
            "objects_per_target": objects_per_target,
            "medians": medians,
            "ratios": figures.ratios(medians),
            "runs": runs,
        }

    def cleanup(self) -> None:
        for namespace in self.namespaces:
            subprocess.run(  # noqa: S603
                [
                    self.options.kubectl,
                    f"--kubeconfig={self.kubeconfig}",
                    "delete",
                    "namespace",
                    namespace,
                    "--wait=false",
                ],
                capture_output=True,
                check=False,
            )


def rename(value, namespace: str, floor: str):
    """A copy of value with every string equal to namespace (its namespace, the Namespace's name,
    a namespace in a selector or a subject) replaced by floor."""
    if isinstance(value, dict):
        return {key: rename(item, namespace, floor) for key, item in value.items()}
    if isinstance(value, list):
        return [rename(item, namespace, floor) for item in value]
    return floor if value == namespace else value


def meta(options: argparse.Namespace) -> dict:
    def output(*command: str) -> str:
        found = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)  # noqa: S603
        return found.stdout.strip()

    import ansible  # pylint: disable=import-outside-toplevel

    manifest = (
        Path(sys.executable)
        .parents[1]
        .glob("lib/python*/site-packages/ansible_collections/kubernetes/core/MANIFEST.json")
    )
    kubernetes_core = next((json.loads(p.read_text())["collection_info"]["version"] for p in manifest), "unknown")
    dirty = " (with local changes)" if output("git", "status", "--porcelain", "--", "roles", "playbooks") else ""
    return {
        "label": options.label,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": (output("git", "rev-parse", "--short", "HEAD") or "unknown") + dirty,
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "ansible_core": ansible.__version__ if hasattr(ansible, "__version__") else output("ansible", "--version"),
        "kubernetes_core": kubernetes_core,
        "kubectl": output(options.kubectl, "version", "--client", "-o", "json")
        and json.loads(output(options.kubectl, "version", "--client", "-o", "json"))["clientVersion"]["gitVersion"],
        "repeat": options.repeat,
        "targets": options.targets,
    }


def plot(results: dict, path: Path) -> None:
    """Median seconds and requests of each phase against the number of targets."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    from matplotlib import pyplot  # pylint: disable=import-outside-toplevel

    figure, (seconds_axes, requests_axes) = pyplot.subplots(1, 2, figsize=(11, 4.2))
    targets = [scale["targets"] for scale in results["scales"]]
    for phase in figures.PHASES:
        style = "--" if phase.startswith("floor") else "-"
        seconds = [scale["medians"].get(phase, {}).get("seconds") for scale in results["scales"]]
        requests = [scale["medians"].get(phase, {}).get("requests") for scale in results["scales"]]
        seconds_axes.plot(targets, seconds, style, marker="o", label=figures.TITLES[phase])
        requests_axes.plot(targets, requests, style, marker="o", label=figures.TITLES[phase])
    seconds_axes.set(xlabel="targets (inventory hosts)", ylabel="seconds (median)", title="Time")
    requests_axes.set(xlabel="targets (inventory hosts)", ylabel="API requests (median)", title="Requests")
    for axes in (seconds_axes, requests_axes):
        axes.set_xticks(targets)
        axes.grid(alpha=0.3)
    seconds_axes.legend(fontsize=7)
    figure.suptitle(f"homelab.mlflow benchmark ({results['meta']['label']}, {results['meta']['date']})", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str]) -> int:
    options = arguments(argv)
    cluster = TestCluster()
    if not cluster.is_running():
        raise SystemExit("The local test cluster does not run: `make cluster-up` starts it.")
    work = Path(tempfile.mkdtemp(prefix="homelab-mlflow-bench-"))
    bench = Bench(options, work)
    results = {"meta": meta(options), "scales": []}
    print(f"Work folder (logs): {work}", flush=True)
    try:
        for targets in options.targets:
            results["scales"].append(bench.scale(targets))
    finally:
        if not options.keep:
            bench.cleanup()
    options.out.mkdir(parents=True, exist_ok=True)
    base = options.out / options.label
    base.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    base.with_suffix(".md").write_text(figures.markdown(results) + "\n", encoding="utf-8")
    plot(results, base.with_suffix(".png"))
    print(figures.markdown(results))
    print(f"Results: {base}.json, .md, .png")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
