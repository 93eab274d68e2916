# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's Kubernetes engine, used by its controller-side action plugins.

client: one connection to the API server (kubeconfig, context or in-cluster), request counting.
discovery: which kinds the cluster serves, read once per run from aggregated discovery.
objects: object references and the server-set fields a comparison ignores.
compare: whether a live object already holds what is declared; field-level differences.
apply: server-side apply of a role's object set, with check mode, removal and a per-object result.
ready: readiness of Deployments, Jobs, claims, database clusters, ...; one wait loop.
"""
