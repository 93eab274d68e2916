#!/usr/bin/env bash
# `make demo`: deploys the stack to the local test cluster with site.yml, shows that a second
# run changes nothing, then checks the MLflow it deployed over HTTP with the verify tasks.
# With the real node (HOMELAB_TESTCLUSTER_REAL_NODE=1) the pods run in the cluster and verify goes
# through MLflow's Service. Otherwise the node is simulated (its pods never run), so the deployed
# migration Job and Deployment run here as local processes: their commands as rendered, their
# Secrets from the cluster, a local PostgreSQL set up with the database credentials the cluster holds.
#
# Usage: tools/demo.sh [INVENTORY [extra ansible-playbook arguments...]]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
inventory=${1:-inventories/local}
shift || true
bin=.venv/bin
cluster_dir=${HOMELAB_TESTCLUSTER_DIR:-.testcluster}
state=$cluster_dir/local-mlflow
# What changed, what failed and the deployment summary, not a line per task (plugins/callback/concise.py).
export ANSIBLE_STDOUT_CALLBACK=${ANSIBLE_STDOUT_CALLBACK:-homelab.mlflow.concise}

echo "First run: site.yml deploys the stack (only the tasks that change something are shown)."
"$bin/ansible-playbook" site.yml -i "$inventory" "$@"

echo
echo "Second run: it must change nothing."
recap=$("$bin/ansible-playbook" site.yml -i "$inventory" "$@" | grep -E '^\S+ +: ok=')
echo "$recap"
if grep -qvE 'changed=0 ' <<<"$recap"; then
  echo "The second run changed something: the roles are not idempotent." >&2
  exit 1
fi

# JSON results, whatever ansible.cfg chooses (ansible-core deprecates the one-line output, -o).
namespace=$(ANSIBLE_CALLBACK_RESULT_FORMAT=json "$bin/ansible" all -i "$inventory" "$@" -m ansible.builtin.debug \
  -a var=mlflow_namespace | sed -nE 's/.*"mlflow_namespace": "([^"]+)".*/\1/p' | head -n 1)
kubectl=("$cluster_dir/bin/kubectl" --kubeconfig "$cluster_dir/kubeconfig" -n "$namespace")
echo
if [ "${HOMELAB_TESTCLUSTER_REAL_NODE:-}" = 1 ]; then
  # kube-proxy routes Service addresses on the node, and this machine is the node.
  url="http://$("${kubectl[@]}" get service mlflow -o 'jsonpath={.spec.clusterIP}')"
  where="in the cluster, on its real node (through its Service)"
  echo "Checking namespace ${namespace}'s MLflow through its Service, $url ..."
else
  echo "Running namespace ${namespace}'s MLflow Deployment and migration Job as local processes..."
  url=$("$bin/python" tools/localrun/local_mlflow.py start --kubeconfig "$cluster_dir/kubeconfig" \
    --namespace "$namespace" --state "$state" | "$bin/python" -c 'import json, sys; print(json.load(sys.stdin)["url"])')
  where="a local process; artifacts in $state/volumes"
fi

"$bin/ansible-playbook" playbooks/verify.yml -i "$inventory" "$@" \
  -e mlflow_verify_http=true -e "mlflow_verify_url=$url"

echo
echo "What runs in namespace $namespace:"
"${kubectl[@]}" get clusters.postgresql.cnpg.io,persistentvolumeclaims,deployments,jobs,pods,services,httproutes

cat <<SUMMARY

Deployed with inventory $inventory to namespace $namespace of the local test cluster.
MLflow, as deployed, answers at $url ($where):
  curl $url/health
  curl '$url/api/2.0/mlflow/experiments/search?max_results=10'
Look around: make cluster-status; ${kubectl[*]} get all
Stop everything: make cluster-down
SUMMARY
