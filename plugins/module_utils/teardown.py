# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What removing one deployment (playbooks/teardown.yml) deletes, and what it keeps.

Kubernetes: the objects the roles applied carry the label `app.kubernetes.io/managed-by:
homelab.mlflow` and a managedFields entry of the field manager `homelab.mlflow`. Of those, an
object another object owns (ownerReferences) goes with its owner; the data (the artifacts claim,
the CloudNativePG Cluster and ScheduledBackup, the OnePasswordItem and the Secrets the Cluster
reads) stays unless the data goes too. Objects outside the deployment's namespace are only those
named for it.

Authentik: the proxy provider, application and dedicated outpost are deleted when they are this
deployment's (its blueprint declares them or, with no blueprint left, they answer on its external
URL), never when another deployment's blueprint declares them; a shared outpost only stops
serving the provider.
"""

from __future__ import annotations

import re

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik_names import WHAT, blueprint_identities, is_ours

FIELD_MANAGER = "homelab.mlflow"
MANAGED_BY = "app.kubernetes.io/managed-by"
# The data: kept unless the data is removed too. (API group, kind).
DATA_KINDS = frozenset(
    {
        ("", "PersistentVolumeClaim"),
        ("postgresql.cnpg.io", "Cluster"),
        ("postgresql.cnpg.io", "ScheduledBackup"),
        # The 1Password operator deletes the credentials Secret with it.
        ("onepassword.com", "OnePasswordItem"),
    }
)
# Deletion order, the reverse of site.yml's: the scheduled runs and workloads first, then what
# routes to them, the data, and the network policies last (the pods stay fenced in until they
# are gone). Kinds not named here go between the workloads and the data.
ORDER = (
    "CronJob",
    "Job",
    "Deployment",
    "PodDisruptionBudget",
    "HTTPRoute",
    "ServiceMonitor",
    "Service",
    "RoleBinding",
    "ClusterRoleBinding",
    "Role",
    "ClusterRole",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "RecurringJob",
    "ScheduledBackup",
    "Cluster",
    "OnePasswordItem",
    "PersistentVolumeClaim",
    "CiliumNetworkPolicy",
    "NetworkPolicy",
    "Namespace",
)
_PAIR = re.compile(r"^apiVersion:[ \t]*([A-Za-z0-9./-]+)[ \t]*\n(?:[ \t#].*\n|\n)*?kind:[ \t]*([A-Za-z]+)[ \t]*$", re.M)
RECURRING_JOB_LABEL = "recurring-job.longhorn.io/"


def group_of(api_version):
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def template_kinds(texts):
    """The (apiVersion, kind) pairs the roles' templates render literally, sorted."""
    found = set()
    for text in texts:
        for api_version, kind in _PAIR.findall(text or ""):
            found.add((api_version, kind))
    return [{"api_version": api_version, "kind": kind} for api_version, kind in sorted(found)]


def served_kinds(kinds, apis, namespaced=True):
    """Of `kinds`, those the cluster serves (k8s_cluster_info's `apis`) with the given scope."""
    served = []
    for item in kinds:
        info = (apis or {}).get(item["api_version"], {}).get(item["kind"])
        if isinstance(info, dict) and bool(info.get("namespaced", True)) == namespaced:
            served.append(item)
    return served


def _applied_by(obj, field_manager):
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    return any(entry.get("manager") == field_manager for entry in entries)


def _ref(obj):
    metadata = obj.get("metadata") or {}
    ref = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": {"name": metadata.get("name")}}
    if metadata.get("namespace"):
        ref["metadata"]["namespace"] = metadata["namespace"]
    return ref


def _rank(ref):
    kind = ref["kind"]
    if kind in ORDER:
        return ORDER.index(kind)
    return ORDER.index("RecurringJob") - 0.5


def describe(ref):
    metadata = ref["metadata"]
    where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{ref['kind']} {where}{metadata['name']}"


def secrets_of_clusters(clusters):
    """The names of the Secrets CloudNativePG Clusters read (every `...secret`/`...Secret: {name}` of their spec)."""
    names = set()

    def walk(value, key=""):
        if isinstance(value, dict):
            if key.lower().endswith("secret") and isinstance(value.get("name"), str):
                names.add(value["name"])
            for child_key, child in value.items():
                walk(child, child_key)
        elif isinstance(value, list):
            for child in value:
                walk(child, key)

    for cluster in clusters or []:
        walk(cluster.get("spec") or {})
    return sorted(names)


def recurring_job_names(claims, prefix, configured):
    """The Longhorn RecurringJobs of the deployment: those its artifacts claim is labelled with,
    and those configured (storage_recurring_jobs), each with the deployment's prefix."""
    names = {prefix + job["name"] for job in configured or [] if isinstance(job, dict) and job.get("name")}
    for claim in claims or []:
        for label, value in ((claim.get("metadata") or {}).get("labels") or {}).items():
            if label.startswith(RECURRING_JOB_LABEL) and value == "enabled":
                name = label[len(RECURRING_JOB_LABEL) :]
                if name != "source" and name.startswith(prefix):
                    names.add(name)
    return sorted(names)


def plan(objects, namespace=None, names=None, delete_data=False, kept_secrets=(), field_manager=FIELD_MANAGER):
    """Split live objects into those to delete and those to keep.

    Only objects labelled managed-by homelab.mlflow and applied by `field_manager` count; with
    `namespace`, only objects in it; with `names`, only objects of those names (outside the
    deployment's namespace). An object with an owner goes with its owner and is left out. Returns
    {"delete": [references, in deletion order], "keep": [references], "delete_names", "keep_names"}.
    """
    delete, keep = [], []
    kept_secrets = set(kept_secrets or ())
    clusters = [
        o
        for o in objects or []
        if (group_of(o.get("apiVersion", "")), o.get("kind")) == ("postgresql.cnpg.io", "Cluster")
    ]
    kept_secrets |= set(secrets_of_clusters(clusters))
    seen = set()
    for obj in objects or []:
        metadata = obj.get("metadata") or {}
        if (metadata.get("labels") or {}).get(MANAGED_BY) != FIELD_MANAGER:
            continue
        if not _applied_by(obj, field_manager):
            continue
        if metadata.get("ownerReferences"):
            continue
        if namespace is not None and metadata.get("namespace") != namespace:
            continue
        if names is not None and metadata.get("name") not in names:
            continue
        ref = _ref(obj)
        key = (ref["apiVersion"], ref["kind"], metadata.get("namespace"), metadata.get("name"))
        if key in seen:
            continue
        seen.add(key)
        is_data = (group_of(ref["apiVersion"] or ""), ref["kind"]) in DATA_KINDS or (
            ref["kind"] == "Secret" and metadata.get("name") in kept_secrets
        )
        (delete if delete_data or not is_data else keep).append(ref)
    delete.sort(key=_rank)
    keep.sort(key=_rank)
    return {
        "delete": delete,
        "keep": keep,
        "delete_names": [describe(ref) for ref in delete],
        "keep_names": [describe(ref) for ref in keep],
    }


# -- Authentik --------------------------------------------------------------------------------------


def outpost_route_name(outpost_name):
    """Authentik names an outpost's Kubernetes objects `ak-outpost-<name as a DNS label>`."""
    return ("ak-outpost-" + re.sub(r"[^a-z0-9]+", "-", outpost_name.lower()).strip("-"))[:63].rstrip("-")


def _same_url(one, other):
    return isinstance(one, str) and isinstance(other, str) and one.rstrip("/") == other.rstrip("/")


def sso_removal(names, external_host, owner, blueprints, provider=None, application=None, outpost=None, dedicated=True):
    """What to remove of a deployment's SSO objects in Authentik, in order.

    names: the chosen names (homelab.mlflow.authentik_sso_names); blueprints: [{"name", "content"}]
    of every blueprint instance; provider, application: dicts as the API gives them, or None;
    outpost: {"pk", "name", "providers", "managed"} or None. Returns (actions, skipped): actions
    are {"action", "object", "name", "pk"} with action `remove_provider` (from a shared outpost)
    or `delete`; skipped are messages about objects of the names that are not this deployment's.
    """
    external_url = f"https://{external_host}"
    ours, theirs = {}, {}
    for blueprint in blueprints or []:
        identities, url, owner_label = blueprint_identities(blueprint.get("content"))
        if blueprint.get("name") == names.get("blueprint") and is_ours(url, owner_label, external_url, owner):
            ours.update(identities)
        elif identities and not is_ours(url, owner_label, external_url, owner):
            for key, identifier in identities.items():
                theirs.setdefault((key, identifier), blueprint.get("name"))

    actions, skipped = [], []

    def decide(key, identifier, ours_by_evidence, not_ours_why):
        """True when the object is this deployment's; otherwise says why it stays."""
        other = theirs.get((key, identifier))
        if other is not None:
            skipped.append(f"{WHAT[key]} {identifier!r}: declared by blueprint {other!r} of another deployment, kept")
            return False
        if not ours_by_evidence:
            skipped.append(f"{WHAT[key]} {identifier!r}: {not_ours_why}, kept")
        return ours_by_evidence

    provider_pk = None
    if provider:
        name = provider.get("name")
        evidence = ours.get("provider") == name or _same_url(provider.get("external_host"), external_url)
        if decide("provider", name, evidence, f"answers on {provider.get('external_host')!r}, not {external_url}"):
            provider_pk = provider.get("pk")

    if outpost and not dedicated and provider_pk is not None and provider_pk in (outpost.get("providers") or []):
        actions.append({"action": "remove_provider", "object": "outpost", "name": outpost["name"], "pk": outpost["pk"]})

    if application:
        slug = application.get("slug")
        evidence = ours.get("application_slug") == slug or (
            provider_pk is not None and application.get("provider") == provider_pk
        )
        if decide(
            "application_slug", slug, evidence, "neither declared by this deployment's blueprint nor using its provider"
        ):
            actions.append({"action": "delete", "object": "application", "name": slug, "pk": slug})

    if provider_pk is not None:
        actions.append({"action": "delete", "object": "provider", "name": provider["name"], "pk": provider_pk})

    if outpost and dedicated:
        name = outpost.get("name")
        served = set(outpost.get("providers") or [])
        only_ours = served <= ({provider_pk} if provider_pk is not None else set())
        declared = (ours.get("outpost") or "").lower() == (name or "").lower()
        if outpost.get("managed"):
            skipped.append(f"outpost {name!r}: managed by Authentik itself, kept")
        elif decide("outpost", name, declared or only_ours, "serves providers of others"):
            actions.append({"action": "delete", "object": "outpost", "name": name, "pk": outpost["pk"]})
    return actions, skipped


def remove_sso(client, names, external_host, owner, dedicated=True, check_mode=False):
    """Remove this deployment's provider, application and (dedicated) outpost from Authentik, or
    take its provider off a shared outpost; returns the module's result. `client` is an
    AuthentikClient."""
    blueprints = [{"name": b.name, "content": b.content} for b in client.blueprints()]
    provider = client.find_proxy_provider(names["provider"])
    if provider is not None and provider.get("name") != names["provider"]:
        provider = None
    application = client.find_application(names["application_slug"])
    outpost_name = names["outpost"]
    found = client.find_outpost(outpost_name) if outpost_name else None
    outpost = None
    if found is not None:
        outpost = {
            "pk": str(found.pk),
            "name": found.name,
            "providers": list(found.providers),
            "managed": found.managed,
        }
    actions, skipped = sso_removal(names, external_host, owner, blueprints, provider, application, outpost, dedicated)
    lines = [
        f"{a['object']} {a['name']}" + (" (this provider off it)" if a["action"] == "remove_provider" else "")
        for a in actions
    ]
    result = {
        "changed": bool(actions),
        "actions": actions,
        "skipped": skipped,
        "route": outpost_route_name(outpost["name"]) if outpost and dedicated else "",
        "diff": {
            "before_header": "Authentik objects of this deployment",
            "after_header": "Authentik objects of this deployment",
            "before": "".join(f"{line}\n" for line in lines),
            "after": "",
        },
    }
    if check_mode:
        return result
    for action in actions:
        if action["action"] == "remove_provider":
            from authentik_client.models.patched_outpost_request import PatchedOutpostRequest

            current = client.find_outpost(action["name"])
            if current is None:
                continue
            remaining = [pk for pk in current.providers if pk != provider["pk"]]
            client.call(
                f"take provider {provider['name']!r} off outpost {action['name']!r}",
                client.outposts.outposts_instances_partial_update,
                current.pk,
                PatchedOutpostRequest(providers=remaining),
            )
        else:
            method = {
                "application": client.core.core_applications_destroy,
                "provider": client.providers.providers_proxy_destroy,
                "outpost": client.outposts.outposts_instances_destroy,
            }[action["object"]]
            _delete(client, f"delete {action['object']} {action['name']!r}", method, action["pk"])
    return result


def _delete(client, what, method, pk):
    from ansible_collections.homelab.mlflow.plugins.module_utils.authentik import AuthentikError

    try:
        client.call(what, method, pk)
    except AuthentikError as err:
        if err.status != 404:  # gone meanwhile: what was wanted
            raise
