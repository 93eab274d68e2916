#!/usr/bin/env python
"""Run the MLflow a namespace of the local test cluster holds, as local processes.

The local cluster's node is simulated, so its pods never run. This runs them here instead, the
way the kubelet would: the migration Job's containers in order, then the Deployment's server,
with their commands as rendered by the role, their environment resolved from the cluster's
Secrets, the database service mapped to a real local PostgreSQL (set up with the credentials
from the cluster's Secret) and the volumes to local directories. The server's port is the only
thing changed (5000 may be taken here). A server that reads from the database's standbys
(MLFLOW_READ_REPLICA_BACKEND_STORE_URI) gets a local hot standby of that PostgreSQL for them.

    local_mlflow.py start --kubeconfig K --namespace N --state DIR   # prints {"url": ...}
    local_mlflow.py upgrade --kubeconfig K --namespace N --state DIR # after the Deployment's release changed
    local_mlflow.py stop --state DIR

`start` leaves the server and PostgreSQL running; `upgrade` replaces the server by the Deployment's release,
after its migration Job ran against the same database; `stop` stops them and removes DIR. Each release runs
with its own MLflow (tools/localrun/mlflow_runtime.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import postgres_server
from kubernetes import client, config
from local_pod import LocalContainer
from mlflow_runtime import runtime_for

SERVER_PORT_ARG = "--port=5000"
HEALTH_TIMEOUT = 180
PRIMARY_URI, READ_REPLICA_URI = "MLFLOW_BACKEND_STORE_URI", "MLFLOW_READ_REPLICA_BACKEND_STORE_URI"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_object(api: client.ApiClient, reader, *args) -> dict:
    return api.sanitize_for_serialization(reader(*args))


def migration_job(api: client.ApiClient, namespace: str, version: str) -> dict:
    """The migration Job of the release the Deployment runs."""
    jobs = client.BatchV1Api(api).list_namespaced_job(
        namespace, label_selector=f"app.kubernetes.io/component=db-upgrade,app.kubernetes.io/version={version}"
    )
    if len(jobs.items) != 1:
        raise SystemExit(f"expected one migration Job of MLflow {version} in {namespace}, found {len(jobs.items)}")
    return api.sanitize_for_serialization(jobs.items[0])


def local_volumes(pod_spec: dict, state: Path) -> dict[str, Path]:
    """Each volume of the pod as a directory under `state`; claims keep their data across starts."""
    volumes = {}
    for volume in pod_spec.get("volumes", []):
        if "persistentVolumeClaim" in volume:
            path = state / "volumes" / volume["persistentVolumeClaim"]["claimName"]
        elif "emptyDir" in volume:
            path = state / "emptydir" / volume["name"]
        else:
            raise SystemExit(f"volume {volume['name']}: only claims and emptyDirs can be run here")
        path.mkdir(parents=True, exist_ok=True)
        volumes[volume["name"]] = path
    return volumes


def map_database(uri: str, port: int) -> str:
    """The backend store URI with its host (the cluster's database service) replaced by the local server."""
    parts = urlsplit(uri)
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))


def containers(api, namespace, pod_spec, specs, state: Path, database_ports: dict[str, int]) -> list[LocalContainer]:
    """The pod's containers, ready to run here; each database URI variable named in `database_ports` goes to
    the local server on that port."""
    volumes = local_volumes(pod_spec, state)
    workdir = state / "workdir"
    workdir.mkdir(exist_ok=True)
    result = []
    for spec in specs:
        local = LocalContainer.from_spec(api, namespace, pod_spec, spec, volumes=volumes, workdir=workdir)
        for variable, port in database_ports.items():
            if variable in local.env:
                local.env[variable] = map_database(local.env[variable], port)
        result.append(local)
    return result


def reads_from_standbys(pod_spec: dict) -> bool:
    return any(env.get("name") == READ_REPLICA_URI for spec in pod_spec["containers"] for env in spec.get("env", []))


def server_record(server: postgres_server.PostgresServer) -> dict:
    return {"bin": str(server.bin_dir), "data": str(server.data_dir), "port": server.port, "run_as": server.run_as}


def wait_for_health(url: str, process, log: Path, timeout: float = HEALTH_TIMEOUT) -> None:
    """Until the server at `url` answers /health; SystemExit, with its log's end, when it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the MLflow server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:  # noqa: S310 (a local http URL)
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the MLflow server did not answer /health within {timeout} s:\n{log.read_text()[-4000:]}")


def save(state: Path, record: dict) -> None:
    (state / "state.json").write_text(json.dumps(record))


def serve(
    api: client.ApiClient, namespace: str, state: Path, record: dict, ports: dict[str, int], port: int | None = None
) -> dict:
    """The migration Job of the release the Deployment runs, then its server (on `port`, else a free one), with
    that release's MLflow."""
    deployment = read_object(api, client.AppsV1Api(api).read_namespaced_deployment, "mlflow", namespace)
    server_pod = deployment["spec"]["template"]["spec"]
    version = deployment["metadata"]["labels"]["app.kubernetes.io/version"]
    job_pod = migration_job(api, namespace, version)["spec"]["template"]["spec"]
    runtime = runtime_for(version)
    migration = []
    for step in containers(
        api, namespace, job_pod, [*job_pod.get("initContainers", []), *job_pod["containers"]], state, ports
    ):
        result = step.run(runtime.path())
        migration.append({"container": step.name, "output": result.stdout[-4000:]})
        if result.returncode != 0:
            raise SystemExit(f"container {step.name} of the migration Job failed:\n{result.stdout[-4000:]}")

    (server,) = containers(api, namespace, server_pod, server_pod["containers"], state, ports)
    port = port or free_port()
    server.replace_arg(SERVER_PORT_ARG, f"--port={port}")
    log = state / f"mlflow-server-{version}.log"
    process = server.start(runtime.path(), log)
    record["server"] = {"pid": process.pid, "url": f"http://127.0.0.1:{port}", "log": str(log), "version": version}
    save(state, record)
    wait_for_health(record["server"]["url"], process, log)
    started = {"url": record["server"]["url"], "version": version, "artifacts": str(state / "volumes")}
    if "standby" in record:
        started["standby_log"] = str(Path(record["standby"]["data"]).parent / "server.log")
    return {**started, "migration": migration}


def start(kubeconfig: str, namespace: str, state: Path) -> dict:
    if (state / "state.json").exists():
        stop(state)
    state.mkdir(parents=True, exist_ok=True)
    api = config.new_client_from_config(config_file=kubeconfig)
    server_pod = read_object(api, client.AppsV1Api(api).read_namespaced_deployment, "mlflow", namespace)["spec"][
        "template"
    ]["spec"]

    # In a directory of /tmp of its own: as root, the server runs as nobody, who must reach it.
    database = postgres_server.start()
    record = {"postgres": server_record(database)}
    save(state, record)
    ports = {PRIMARY_URI: database.port}
    if reads_from_standbys(server_pod):
        # Streaming from the start, as CloudNativePG's replicas do: the database and schema reach it too.
        standby = postgres_server.start_standby(database)
        record["standby"] = server_record(standby)
        save(state, record)
        ports[READ_REPLICA_URI] = standby.port

    # The database and owner as CloudNativePG's initdb would create them, from the same Secret.
    (server,) = containers(api, namespace, server_pod, server_pod["containers"], state, ports)
    uri = urlsplit(server.env[PRIMARY_URI])
    database.create_database(unquote(uri.username), unquote(uri.password), unquote(uri.path.lstrip("/")))
    return serve(api, namespace, state, record, ports)


def upgrade(kubeconfig: str, namespace: str, state: Path) -> dict:
    """After the namespace's Deployment moved to another release: stop the server, keep the database and the
    volumes, and run that release's migration Job and server against them, at the same address, as the cluster
    would roll out behind its Service."""
    record = json.loads((state / "state.json").read_text())
    stop_server(record)
    address = urlsplit(record.pop("server")["url"])
    ports = {PRIMARY_URI: record["postgres"]["port"]}
    if "standby" in record:
        ports[READ_REPLICA_URI] = record["standby"]["port"]
    api = config.new_client_from_config(config_file=kubeconfig)
    return serve(api, namespace, state, record, ports, address.port)


def stop_server(record: dict) -> None:
    if "server" not in record:
        return
    try:
        os.killpg(record["server"]["pid"], signal.SIGTERM)
        time.sleep(2)
        os.killpg(record["server"]["pid"], signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(state: Path) -> None:
    record_file = state / "state.json"
    if not record_file.exists():
        return
    record = json.loads(record_file.read_text())
    stop_server(record)
    for key in ("standby", "postgres"):
        if key in record:
            recorded_server(record[key]).stop()
    shutil.rmtree(state, ignore_errors=True)


def recorded_server(database: dict) -> postgres_server.PostgresServer:
    """A PostgreSQL server start() recorded in the state."""
    return postgres_server.PostgresServer(
        Path(database["bin"]),
        Path(database["data"]),
        Path(database["data"]).parent / "socket",
        "127.0.0.1",
        database["port"],
        tuple(database["run_as"]),
    )


def primary(state: Path) -> postgres_server.PostgresServer:
    """The PostgreSQL server the running MLflow writes to, for a test to look into."""
    return recorded_server(json.loads((state / "state.json").read_text())["postgres"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start", help="run the namespace's MLflow here; prints its URL as JSON")
    start_parser.add_argument("--kubeconfig", required=True)
    start_parser.add_argument("--namespace", required=True)
    start_parser.add_argument("--state", required=True, type=Path, help="directory for the processes' state")
    upgrade_parser = commands.add_parser("upgrade", help="run the Deployment's (new) release on the same database")
    upgrade_parser.add_argument("--kubeconfig", required=True)
    upgrade_parser.add_argument("--namespace", required=True)
    upgrade_parser.add_argument("--state", required=True, type=Path, help="the directory start was given")
    stop_parser = commands.add_parser("stop", help="stop what start started")
    stop_parser.add_argument("--state", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.command in ("start", "upgrade"):
        run = start if args.command == "start" else upgrade
        started = run(args.kubeconfig, args.namespace, args.state)
        print(json.dumps({key: value for key, value in started.items() if key != "migration"}))
    else:
        stop(args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
